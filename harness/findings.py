"""A finding: one isolation bug, with what a developer needs to act on it.

The id is stable across runs: kind, operation, the principal's role (or, for an endpoint that runs many
reporting queries, the query: one finding per report, not per role) and the leaked field's shape, never
a value, a victim or a count that could vary; so the same bug is one finding run after run, and can be
replayed first.
Evidence is a short excerpt around the foreign value, never a dump; the curl line has credentials
redacted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from dataclasses import asdict, dataclass, field

EXCERPT = 60
#: No finding's evidence is longer than this, in any report: an excerpt, never a dump.
EVIDENCE_MAX = 500
REDACTED = "***"
SENSITIVE_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}


@dataclass
class Request:
    method: str
    path: str  # path with query string, as sent
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None

    def redacted_headers(self) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in self.headers.items()}

    def curl(self, base_url: str) -> str:
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(base_url.rstrip("/") + self.path)]
        for name, value in self.redacted_headers().items():
            if name.lower() == "authorization" and value == REDACTED:
                value = "Bearer $TOKEN"
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.body is not None:
            parts += ["-H", shlex.quote("Content-Type: application/json"),
                      "--data", shlex.quote(json.dumps(self.body, default=str))]
        return " ".join(parts)

    def as_dict(self) -> dict:
        return {"method": self.method, "url": self.path, "headers": self.redacted_headers(), "body": self.body}


@dataclass
class Finding:
    kind: str  # foreign-row | non-interference | write-isolation | object-level | mass-assignment
    oracle: str
    phase: str  # sweep | fuzz | reports | stateful | noninterference
    operation: str
    principal: str
    role: str
    victim_tenant: str
    evidence: str
    request: Request | None
    status: int | None
    seed: int
    #: What identifies the bug beyond the operation (e.g. the leaked JSON field, the table written).
    locus: str = ""
    title: str = ""
    #: Order in which the scan produced it (requests sent before it, seconds since start).
    requests_before: int = 0
    seconds: float = 0.0
    id: str = ""
    #: The reporting query a finding belongs to when an endpoint ran it (``POST /api/reports/{name}``):
    #: one endpoint serves many queries, each its own bug.
    query: str = ""
    #: ``error`` fails the scan; ``warning`` fails only the ``release`` profile (a statement no finding
    #: explains reads a tenant table unprotected); ``note`` is reported and never fails (a 2xx to a
    #: foreign object that changed nothing).
    severity: str = "error"
    #: The JSON field (or header) that carried a leaked value, when known: what a waiver of a public
    #: field names. Not part of the id (one finding per leaking operation and role, not per field).
    field: str = ""
    #: Root cause in SQL (harness.rootcause): the statements of the finding's request that touched a
    #: tenant table without protection, each {statement (normalised, cut), role, table, mode, verdict,
    #: why, sql_id, from: request | inventory}. Not part of the id.
    root_cause: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if len(self.evidence) > EVIDENCE_MAX:
            self.evidence = self.evidence[:EVIDENCE_MAX - 1] + "…"
        if not self.id:
            # A templated endpoint's finding is the query's bug, whichever role ran it: one per query.
            key = "|".join([self.kind, self.operation, f"query:{self.query}" if self.query else self.role,
                            self.locus])
            self.id = "TH-" + hashlib.sha256(key.encode()).hexdigest()[:10]
        if not self.title:
            self.title = f"{self.kind}: {self.operation} as {self.principal} exposes {self.victim_tenant}"

    def as_dict(self, base_url: str, reproduce: str) -> dict:
        d = asdict(self)
        d["request"] = self.request.as_dict() if self.request else None
        d["curl"] = self.request.curl(base_url) if self.request else ""
        d["reproduce"] = reproduce
        return d


def excerpt(text: str, start: int, end: int, width: int = EXCERPT) -> str:
    """A short window around ``text[start:end]``, the foreign value marked with »«."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    return ("…" if lo else "") + text[lo:start] + "»" + text[start:end] + "«" + text[end:hi] + ("…" if hi < len(text) else "")
