"""Send one request as one principal, and put every oracle on what comes back.

This is the scan's hot path: one HTTP round trip, then each check in :attr:`Exchange.checks` looks at
the :class:`Observation` (one Aho-Corasick pass for foreign rows, one change-log read for unsafe
methods, learning ids from the answer). A phase or an oracle adds a check by appending an async
callable ``check(exchange, observation)``; it reports through :meth:`Exchange.finding`. Findings are
keyed by their stable id, so a bug seen a thousand times is one finding (with the first request that
showed it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from harness.coverage import Coverage
from harness.findings import REDACTED, SENSITIVE_HEADERS, Finding, Request
from harness.fuzz.probes import Probe
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles import foreign_rows
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.scenario import Principal


@dataclass
class Observation:
    """One request as sent (credentials redacted) and the response it got."""

    principal: Principal
    probe: Probe
    phase: str
    request: Request
    response: httpx.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def ok(self) -> bool:
        return 200 <= self.response.status_code < 300


Check = Callable[["Exchange", Observation], Awaitable[None]]


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
        self.checks: list[Check] = [check_foreign_rows, check_object_level]
        if digests is not None:
            self.checks.append(check_writes)
        self.checks.append(learn)

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
        observation = Observation(p, probe, phase, request, response)
        for check in self.checks:
            await check(self, observation)
        return response


# -- the checks every exchange runs ------------------------------------------------------------------------
async def check_foreign_rows(ex: Exchange, obs: Observation) -> None:
    """Property 1: no marker of a tenant outside V(P) in the body or a data-carrying header."""
    probe, p = obs.probe, obs.principal
    body = obs.request.body
    sent_text = probe.url() + json.dumps(body, default=str) + json.dumps(probe.headers)
    parts = foreign_rows.response_parts(obs.response.headers, obs.response.text)
    for leak in foreign_rows.check(ex.index, p.visible, sent_text, parts):
        ex.finding("foreign-row", "foreign-row", obs.phase, probe.operation.label, p, ex.victim_label(leak.owners),
                   f"{leak.where} field {leak.locus!r}: {leak.evidence}", obs.request, obs.status, leak.where)


async def check_object_level(ex: Exchange, obs: Observation) -> None:
    """An unsafe request carrying a foreign id in its path must be refused (403/404)."""
    probe, op = obs.probe, obs.probe.operation
    if obs.ok and not op.safe and probe.foreign_in_path:
        victim = ex.victim_label({probe.victim})
        ex.finding("object-level", "object-level", obs.phase, op.label, obs.principal, victim,
                   f"{op.method} with {victim}'s id ({', '.join(probe.notes)}) answered {obs.status}: "
                   f"a foreign object must be refused with 403/404", obs.request, obs.status, "path-id")


async def check_writes(ex: Exchange, obs: Observation) -> None:
    """Property 3: nothing an unsafe request did changed a row of a tenant outside V(P)."""
    probe, p = obs.probe, obs.principal
    if probe.operation.safe:
        return
    for change in await ex.digests.changes():
        if change.tenant in p.visible:
            continue
        mass = bool(change.inserted) and probe.attack == "tamper"
        kind = "mass-assignment" if mass else "write-isolation"
        ex.finding(kind, "write-isolation", obs.phase, probe.operation.label, p, ex.victim_label({change.tenant}),
                   f"{change.describe()} in tenant {ex.victim_label({change.tenant})} "
                   f"(request answered {obs.status})", obs.request, obs.status, f"table:{change.table}")


async def learn(ex: Exchange, obs: Observation) -> None:
    """Ids created during the run join the index; listed ids become usable; deleted ids are gone."""
    if not obs.ok:
        return
    probe, p, response = obs.probe, obs.principal, obs.response
    op = probe.operation
    table = ex.ids.table_for("ids", op.path)
    if op.method == "DELETE":
        for name, value in probe.path_params.items():
            if owner := ex.ids.table_for(name, op.path):
                ex.ids.remove(owner, str(value))
        return
    if not table or "json" not in response.headers.get("content-type", ""):
        return
    try:
        data = response.json()
    except ValueError:
        return
    if response.status_code == 201 and isinstance(data, dict) and isinstance(data.get("id"), str):
        ex.index.add(data["id"], p.tenant)
        ex.ids.add(table, p.tenant, data["id"], p.name, data)
    elif op.method == "GET":
        items = data.get("items") if isinstance(data, dict) else data
        if isinstance(items, list):
            ex.ids.observe(p.name, table, items)
        elif isinstance(data, dict) and "id" in data:
            ex.ids.observe(p.name, table, [data])
