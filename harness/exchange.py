"""Send one request as one principal, and put every oracle on what comes back.

This is the scan's hot path: one HTTP round trip, one Aho-Corasick pass over the response, and for
unsafe methods one digest query. Findings are keyed by their stable id, so a bug seen a thousand
times is one finding (with the first, simplest request that showed it).
"""

from __future__ import annotations

import json
import time

import httpx

from harness.coverage import Coverage
from harness.findings import REDACTED, SENSITIVE_HEADERS, Finding, Request
from harness.fuzz.probes import Probe
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles import foreign_rows
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.scenario import Principal


class Exchange:
    def __init__(self, index: OwnershipIndex, ids: ResourceIds, coverage: Coverage, slugs: dict[str, str],
                 seed: int, digests: ChangeLog | Digests | None = None):
        self.index = index
        self.ids = ids
        self.coverage = coverage
        self.slugs = slugs
        self.seed = seed
        self.digests = digests
        self.findings: dict[str, Finding] = {}
        self.occurrences: dict[str, int] = {}
        self.requests = 0
        self.server_errors = 0
        self.transport_errors: list[str] = []
        self.started = time.monotonic()

    # -- findings ------------------------------------------------------------------------------------
    def victim_label(self, owners) -> str:
        return ", ".join(sorted(self.slugs.get(t, t) for t in owners))

    def add(self, finding: Finding) -> None:
        self.occurrences[finding.id] = self.occurrences.get(finding.id, 0) + 1
        if finding.id not in self.findings:
            finding.requests_before = self.requests
            finding.seconds = round(time.monotonic() - self.started, 3)
            self.findings[finding.id] = finding

    def finding(self, kind: str, oracle: str, phase: str, operation: str, p: Principal, victim: str,
                evidence: str, request: Request | None, status: int | None, locus: str) -> None:
        self.add(Finding(kind, oracle, phase, operation, p.name, p.role, victim, evidence, request, status,
                         self.seed, locus))

    # -- one request -----------------------------------------------------------------------------------
    async def send(self, client: httpx.AsyncClient, p: Principal, probe: Probe, phase: str,
                   record: bool = True) -> httpx.Response | None:
        op = probe.operation
        body = probe.body if op.has_body else None
        try:
            response = await client.request(op.method, probe.path, params=probe.query, headers=probe.headers,
                                            json=body)
        except httpx.HTTPError as exc:
            self.transport_errors.append(f"{op.label} as {p.name}: {type(exc).__name__}: {exc}")
            return None
        self.requests += 1
        status = response.status_code
        if record:
            self.coverage.record(op.label, p.name, status)
        if status >= 500:
            self.server_errors += 1
        # Credentials live on the principal's client; the record says where they go, never what they are.
        sent_headers = {k: REDACTED for k in client.headers if k.lower() in SENSITIVE_HEADERS}
        request = Request(op.method, probe.url(), {**sent_headers, **probe.headers}, body)
        sent_text = probe.url() + json.dumps(body, default=str) + json.dumps(probe.headers)
        parts = foreign_rows.response_parts(response.headers, response.text)
        for leak in foreign_rows.check(self.index, p.visible, sent_text, parts):
            self.finding("foreign-row", "foreign-row", phase, op.label, p, self.victim_label(leak.owners),
                         f"{leak.where} field {leak.locus!r}: {leak.evidence}", request, status, leak.where)
        if 200 <= status < 300 and not op.safe and probe.foreign_in_path:
            self.finding("object-level", "object-level", phase, op.label, p, self.victim_label({probe.victim}),
                         f"{op.method} with {self.victim_label({probe.victim})}'s id ({', '.join(probe.notes)}) "
                         f"answered {status}: a foreign object must be refused with 403/404",
                         request, status, "path-id")
        if not op.safe and self.digests is not None:
            await self._writes(p, probe, phase, request, status)
        if 200 <= status < 300:
            self._learn(p, probe, response)
        return response

    async def _writes(self, p: Principal, probe: Probe, phase: str, request: Request, status: int) -> None:
        for change in await self.digests.changes():
            if change.tenant in p.visible:
                continue
            mass = bool(change.inserted) and probe.attack == "tamper"
            kind = "mass-assignment" if mass else "write-isolation"
            self.finding(kind, "write-isolation", phase, probe.operation.label, p, self.victim_label({change.tenant}),
                         f"{change.describe()} in tenant {self.victim_label({change.tenant})} "
                         f"(request answered {status})", request, status, f"table:{change.table}")

    def _learn(self, p: Principal, probe: Probe, response: httpx.Response) -> None:
        """Ids created during the run join the index; listed ids become usable; deleted ids are gone."""
        op = probe.operation
        table = self.ids.table_for("ids", op.path)
        if op.method == "DELETE":
            for name, value in probe.path_params.items():
                if owner := self.ids.table_for(name, op.path):
                    self.ids.remove(owner, str(value))
            return
        if not table or "json" not in response.headers.get("content-type", ""):
            return
        try:
            data = response.json()
        except ValueError:
            return
        if response.status_code == 201 and isinstance(data, dict) and isinstance(data.get("id"), str):
            self.index.add(data["id"], p.tenant)
            self.ids.add(table, p.tenant, data["id"], p.name, data)
        elif op.method == "GET":
            items = data.get("items") if isinstance(data, dict) else data
            if isinstance(items, list):
                self.ids.observe(p.name, table, items)
            elif isinstance(data, dict) and "id" in data:
                self.ids.observe(p.name, table, [data])
