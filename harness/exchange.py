"""Send one request as one principal, and put every oracle on what comes back.

This is the scan's hot path: one HTTP round trip, then each check in :attr:`Exchange.checks` looks at
the :class:`Observation` (one Aho-Corasick pass for foreign rows, one change-log read for unsafe
methods, learning ids from the answer). A phase or an oracle adds a check by appending an async
callable ``check(exchange, observation)``; it reports through :meth:`Exchange.finding`. Findings are
keyed by their stable id, so a bug seen a thousand times is one finding (with the first request that
showed it).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from harness.auth import encode
from harness.budget import Budget, RequestTimeout, bounded
from harness.coverage import Coverage
from harness.findings import REDACTED, SENSITIVE_HEADERS, Finding, Request
from harness.fuzz.probes import Probe
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles import foreign_rows
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.scenario import Principal


#: The reporting query the request in flight runs (set by the reports phase around an endpoint's send):
#: its findings belong to that query, not to the endpoint's operation. Per task, so concurrency-safe.
QUERY: contextvars.ContextVar[str] = contextvars.ContextVar("harness_query", default="")
#: An operation that timed out this many times is not sent again in the run: the scan moves on.
MAX_TIMEOUTS = 3
#: Bodies larger than this are not parsed to learn ids (a list that big holds no id the world lacks).
LEARN_LIMIT = 4 << 20


@dataclass
class Observation:
    """One request as sent (credentials redacted) and the response it got."""

    principal: Principal
    probe: Probe
    phase: str
    request: Request
    response: httpx.Response
    #: What an unsafe request wrote (set by ``check_writes``; later checks read it, the log is drained once).
    changes: list | None = None
    #: The owner's view of the attacked foreign object, read before the request (harness.oracles.readback).
    before: object = None
    #: What the request did to that object: "changed", "unchanged", or None when nothing can tell.
    effect: str | None = None

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
        self.checks: list[Check] = [check_foreign_rows]
        if digests is not None:
            self.checks.append(check_writes)
        self.checks += [check_read_back, check_object_level, check_function_level, learn]
        #: Reads a foreign object back as its owner around an unsafe attack on it (live targets without a
        #: database: harness.oracles.readback.ReadBack); None where the database tells what was written.
        self.readback = None
        #: Tenants born during the run (tenant id -> the principal whose request created it): what that
        #: principal writes there is its own, not a cross-tenant write.
        self.created_tenants: dict[str, str] = {}
        #: Rows (table, key) a request made reference another tenant's row (a cross-reference finding): when
        #: the referenced row's owner deletes it and the database cascades into them, that is the earlier
        #: finding's consequence, not a write by the owner into a foreign tenant.
        self.crossed: set[tuple[str, str]] = set()
        #: Live targets: requests in flight at once (1: one at a time, as in-process runs must be) and a
        #: rate limit (harness.safety.RateLimit); see :meth:`submit`.
        self.concurrency = 1
        #: The run's clock (harness.budget): request timeouts, phase and scan deadlines.
        self.budget = Budget()
        self.timeouts = 0
        self.timed_out: dict[str, int] = {}
        self.rate = None
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task] = set()
        self._last_unsafe: dict[str, asyncio.Task] = {}
        self._pending: dict[str, set[asyncio.Task]] = defaultdict(set)
        #: Root cause in SQL (harness.rootcause.RootCause; in-process runs): takes each request's statements.
        self.sql = None
        #: The statements of the request (or query run) being judged: they explain the findings it adds.
        self.statements: list | None = None

    def configure(self, concurrency: int = 1, rate=None) -> None:
        """Bound the requests in flight (live targets) and pace them with ``rate`` (a RateLimit)."""
        self.concurrency = max(1, int(concurrency or 1))
        self.rate = rate
        self._slots = asyncio.Semaphore(self.concurrency)

    # -- findings ------------------------------------------------------------------------------------
    def victim_label(self, owners) -> str:
        return ", ".join(sorted(self.slugs.get(t, t) for t in owners))

    def add(self, finding: Finding) -> None:
        self.occurrences[finding.id] = self.occurrences.get(finding.id, 0) + 1
        if finding.id not in self.findings:
            finding.requests_before = self.requests
            finding.seconds = round(time.monotonic() - self.started, 3)
            if self.sql is not None and not finding.root_cause:
                finding.root_cause = self.sql.explain(finding, self.statements)
            self.findings[finding.id] = finding

    def finding(self, kind: str, oracle: str, phase: str, operation: str, p: Principal, victim: str,
                evidence: str, request: Request | None, status: int | None, locus: str, field: str = "") -> None:
        self.add(Finding(kind, oracle, phase, operation, p.name, p.role, victim, evidence, request, status,
                         self.seed, locus, query=QUERY.get(), field=field))

    # -- one request -----------------------------------------------------------------------------------
    async def send(self, client: httpx.AsyncClient, p: Principal, probe: Probe, phase: str,
                   record: bool = True, checks: list[Check] | None = None) -> httpx.Response | None:
        """One request; every check in :attr:`checks` (or only ``checks``: a twin world is not the run's)."""
        op = probe.operation
        body = probe.body if op.has_body else None
        self.budget.check()  # past a deadline nothing more is sent
        if self.timed_out.get(op.label, 0) >= MAX_TIMEOUTS:
            if record:
                self.coverage.record_unsent(op.label, p.name, f"the operation timed out {MAX_TIMEOUTS} times")
            return None
        if self.rate is not None:
            await self.rate.wait()
        before = None
        if self.readback is not None and probe.foreign_in_path and not op.safe and (checks is None):
            if self._tasks and asyncio.current_task() not in self._tasks:
                await self.drain()  # the owner's view before and after must not race requests in flight
            before = await self.readback.before(p, probe)
        timeout = self.budget.request_timeout()
        try:
            response = await bounded(client.request(op.method, probe.path, params=probe.query, headers=probe.headers,
                                                    **encode_body(op, probe.encoding, body)), timeout)
        except (RequestTimeout, httpx.TimeoutException):
            self._timeout(op.label, p.name, timeout, record)
            return None
        except httpx.HTTPError as exc:
            self.transport_errors.append(f"{op.label} as {p.name}: {type(exc).__name__}: {exc}")
            return None
        self.requests += 1
        status = response.status_code
        if record:
            self.coverage.observe(op.label, p.name, response)
        if status >= 500:
            self.server_errors += 1
        # Credentials live on the principal's client; the record says where they go, never what they are.
        sent_headers = {k: REDACTED for k in client.headers if k.lower() in SENSITIVE_HEADERS}
        request = Request(op.method, probe.url(), {**sent_headers, **probe.headers}, _recordable(body))
        observation = Observation(p, probe, phase, request, response, before=before)
        if self.sql is not None and checks is None:  # the run's own target: its statements are captured
            query = QUERY.get()
            self.statements = await self.sql.took(f"query {query}" if query else op.label, query, p, request,
                                                  phase, op.label)
        try:
            for check in self.checks if checks is None else checks:
                await check(self, observation)
        finally:
            if self.statements is not None:
                self.statements = None
                await self.sql.settle(op.safe)  # what the checks ran on the database is not the app's
        return response

    def _timeout(self, label: str, principal: str, timeout: float | None, record: bool) -> None:
        self.timeouts += 1
        self.timed_out[label] = self.timed_out.get(label, 0) + 1
        if record:
            self.coverage.record_timeout(label, principal)
        note = " (not sent again)" if self.timed_out[label] == MAX_TIMEOUTS else ""
        self.transport_errors.append(f"{label} as {principal}: no answer within {timeout or 0:g} s{note}")
        self.budget.check()  # the wait may have used the rest of the deadline


    # -- many requests at once (live targets) ----------------------------------------------------------
    async def submit(self, client: httpx.AsyncClient, p: Principal, probe: Probe, phase: str,
                     record: bool = True) -> None:
        """Send without waiting for the answer; :meth:`drain` waits for everything submitted.

        At most :attr:`concurrency` requests are in flight. A principal's order is kept where it
        matters: its unsafe request starts after all its earlier requests, and its later requests start
        after that one (a read after a delete must see the delete). With one slot, or a change log that
        reads the database after each request, this is :meth:`send`.
        """
        if self.concurrency <= 1 or self._slots is None or self.digests is not None:
            await self.send(client, p, probe, phase, record)
            return
        if self.readback is not None and probe.foreign_in_path and not probe.operation.safe:
            await self.drain()  # the owner's view before and after must not race its own requests
            await self.send(client, p, probe, phase, record)
            return
        await self._slots.acquire()
        key = p.name
        last = self._last_unsafe.get(key)
        deps = [last] if last is not None and not last.done() else []
        if not probe.operation.safe:
            deps += [t for t in self._pending[key] if not t.done() and t is not last]
        task = asyncio.create_task(self._after(deps, client, p, probe, phase, record))
        self._tasks.add(task)
        self._pending[key].add(task)
        if not probe.operation.safe:
            self._last_unsafe[key] = task
        task.add_done_callback(lambda t, k=key: (self._tasks.discard(t), self._pending[k].discard(t)))

    async def _after(self, deps, client, p, probe, phase, record) -> None:
        try:
            if deps:
                await asyncio.gather(*deps, return_exceptions=True)
            await self.send(client, p, probe, phase, record)
        finally:
            self._slots.release()

    async def drain(self) -> None:
        """Wait for every submitted request (a phase ends, or an operation's requests must all be in)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        self._last_unsafe.clear()


def _media_encoding(op) -> tuple[str, frozenset[str]]:
    """How ``op`` takes its body (json | form | multipart) and which multipart fields are files."""
    cached = getattr(op, "_encoding", None)
    if cached is not None:
        return cached
    bodies = []
    try:
        bodies = list(op.st_operation.body) if op.st_operation is not None else []
    except Exception:
        pass
    media = [b.media_type for b in bodies]
    encoding, files = "json", frozenset()
    if media and not any("json" in m for m in media):
        if any(m.startswith("multipart/") for m in media):
            body = next(b for b in bodies if b.media_type.startswith("multipart/"))
            props = ((body.definition or {}).get("schema") or {}).get("properties") or {}
            encoding = "multipart"
            files = frozenset(n for n, s in props.items() if isinstance(s, dict) and (
                s.get("format") in ("binary", "base64") or "contentMediaType" in s or "contentEncoding" in s))
        elif any("x-www-form-urlencoded" in m for m in media):
            encoding = "form"
    op._encoding = (encoding, files)  # read once per operation: the hot path asks per request
    return encoding, files


def encode_body(op, encoding: str | None, body) -> dict:
    """httpx arguments sending ``body`` the way the operation declares (JSON, form, or multipart with files)."""
    declared, files = _media_encoding(op)
    encoding = encoding or declared
    if encoding == "multipart" and isinstance(body, dict):
        body = {k: (v.encode() if isinstance(v, str) and k in files else v) for k, v in body.items()}
    elif encoding != "json" and not isinstance(body, dict):
        encoding = "json"
    return encode(encoding, body)


def _recordable(body):
    """The body as findings record it: file contents as a short text, never raw bytes."""
    if isinstance(body, dict) and any(isinstance(v, (bytes, tuple)) for v in body.values()):
        return {k: (f"<file: {_text(v)}>" if isinstance(v, (bytes, tuple)) else v) for k, v in body.items()}
    return body


def _text(value) -> str:
    data = value[1] if isinstance(value, tuple) else value
    return bytes(data[:80]).decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data)[:80]


def body_text(response: httpx.Response) -> str:
    """The body as text, not cached on the response: a phase holding a few answers of a huge endpoint
    keeps their bytes, not a decoded copy of each (invalid UTF-8 is replaced, never fatal)."""
    if len(response.content) <= LEARN_LIMIT:
        return response.text
    try:
        encoding = response.charset_encoding or "utf-8"
        return response.content.decode(encoding, errors="replace")
    except LookupError:  # an unknown charset
        return response.content.decode("utf-8", errors="replace")


# -- the checks every exchange runs ------------------------------------------------------------------------
async def check_foreign_rows(ex: Exchange, obs: Observation) -> None:
    """Property 1: no marker of a tenant outside V(P) in the body or a data-carrying header."""
    probe, p = obs.probe, obs.principal
    sent_text = foreign_rows.request_text(probe, obs.request.body)
    parts = foreign_rows.response_parts(obs.response.headers, body_text(obs.response))
    for leak in foreign_rows.check(ex.index, p.visible, sent_text, parts):
        ex.finding("foreign-row", "foreign-row", obs.phase, probe.operation.label, p, ex.victim_label(leak.owners),
                   f"{leak.where} field {leak.locus!r}: {leak.evidence}", obs.request, obs.status, leak.where,
                   field=leak.locus)


async def check_function_level(ex: Exchange, obs: Observation) -> None:
    """A role the scenario declares forbidden for an operation must be refused: a 2xx is broken
    function-level authorization, never coverage."""
    op, p = obs.probe.operation, obs.principal
    if obs.ok and (op.label, p.name) in ex.coverage.forbidden:
        ex.finding("function-level", "function-level", obs.phase, op.label, p, ex.victim_label({p.tenant}),
                   f"{op.method} {obs.request.path} answered {obs.status} to role {p.role}, which the scenario "
                   f"declares forbidden for this operation: it must be refused (401/403/404)", obs.request,
                   obs.status, f"role:{p.role}")


async def check_object_level(ex: Exchange, obs: Observation) -> None:
    """An unsafe request carrying a foreign id in its path must be refused (403/404).

    When the database or a read-back tells what the 2xx did: a change is write isolation's finding,
    and no change makes this a note (the app answered 2xx and did nothing: sloppy, not a leak). When
    nothing can tell, the 2xx itself is the finding."""
    probe, op, p = obs.probe, obs.probe.operation, obs.principal
    if not (obs.ok and not op.safe and probe.foreign_in_path):
        return
    effect = obs.effect
    if effect is None and obs.changes is not None:
        effect = "changed" if any(c.tenant not in p.visible for c in obs.changes) else "unchanged"
    if effect == "changed":
        return
    victim = ex.victim_label({probe.victim})
    evidence = f"{op.method} with {victim}'s id ({', '.join(probe.notes)}) answered {obs.status}: "
    if effect == "unchanged":
        evidence += "it changed nothing its owner can see, but a foreign object should be refused with 403/404"
    else:
        evidence += "a foreign object must be refused with 403/404"
    ex.add(Finding("object-level", "object-level", obs.phase, op.label, p.name, p.role, victim, evidence,
                   obs.request, obs.status, ex.seed, "path-id", query=QUERY.get(),
                   severity="note" if effect == "unchanged" else "error"))


async def check_read_back(ex: Exchange, obs: Observation) -> None:
    """Live targets without a database: what a 2xx to an attack did, read back by the object's owner
    (a foreign object) or by the principal itself (its own object given a foreign reference)."""
    rb = ex.readback
    if rb is None or not obs.ok or obs.probe.operation.safe:
        return
    probe, p = obs.probe, obs.principal
    if obs.before is not None:
        found = await rb.effect(obs, obs.before)
        if found is None:
            return
        obs.effect, what = found
        if obs.effect == "changed":
            victim = ex.victim_label({probe.victim})
            ex.finding("write-isolation", "read-back", obs.phase, probe.operation.label, p, victim,
                       f"{probe.operation.method} with {victim}'s id ({', '.join(probe.notes)}) answered "
                       f"{obs.status}, and {what}", obs.request, obs.status, "read-back")
    elif probe.attack == "foreign-id" and probe.victim and not probe.foreign_in_path:
        kept = await rb.kept_reference(p, probe, obs.response)
        if kept is not None:
            field, what = kept
            victim = ex.victim_label({probe.victim})
            ex.finding("cross-reference", "read-back", obs.phase, probe.operation.label, p, victim,
                       f"body field {field!r} set to {victim}'s {probe.body.get(field)!r} answered {obs.status}, "
                       f"and {what}", obs.request, obs.status, f"field:{field}")


async def check_writes(ex: Exchange, obs: Observation) -> None:
    """Property 3: nothing an unsafe request did changed a row of a tenant outside V(P)."""
    probe, p = obs.probe, obs.principal
    if probe.operation.safe:
        return
    obs.changes = await ex.digests.changes()
    born = {c.tenant for c in obs.changes if c.inserted and ex.ids.is_tenant_table(c.table)
            and c.tenant not in ex.slugs and c.tenant not in ex.created_tenants}
    for tenant in born:  # a sign-up, a new workspace: a tenant nobody knew, made by this very request
        ex.created_tenants[tenant] = p.name
    for change in obs.changes:
        if change.tenant in p.visible or ex.created_tenants.get(change.tenant) == p.name:
            continue
        rows = change.inserted + change.updated + change.deleted
        if rows and all((change.table, str(key)) in ex.crossed for key in rows):
            continue  # a row an earlier request made point across tenants, changed by its referenced row's owner
        mass = bool(change.inserted) and probe.attack == "tamper"
        kind = "mass-assignment" if mass else "write-isolation"
        ex.finding(kind, "write-isolation", obs.phase, probe.operation.label, p, ex.victim_label({change.tenant}),
                   f"{change.describe()} in tenant {ex.victim_label({change.tenant})} "
                   f"(request answered {obs.status})", obs.request, obs.status, f"table:{change.table}")
        if (change.inserted or change.updated) and isinstance(probe.body, dict):
            # What the request wrote there is now that tenant's too: its principals seeing it later is this
            # write's consequence (reported right here), not a leak of the report or list that shows it,
            # and a run divided between processes (which never sees the write) finds the same bugs.
            for value in foreign_rows._scalars(probe.body):
                if isinstance(value, str) and ex.index.scan_any(value):
                    ex.index.share(value, change.tenant)


async def learn(ex: Exchange, obs: Observation) -> None:
    """Objects created during the run join the store (any key type: UUIDs, integers, slugs) and their
    text keys the index; listed objects become usable; a deleted object is gone. Only the principal's
    own requests teach it what is its own: what an attack brought back is evidence, never a pool."""
    if not obs.ok:
        return
    probe, p, response = obs.probe, obs.principal, obs.response
    op, ids = probe.operation, ex.ids
    tenant = ids.request_tenant(op.path, probe.path_params) or p.tenant
    if op.method == "DELETE":
        innermost = ids.innermost_ref(op.path)
        if innermost is not None and innermost[0] in probe.path_params:
            name, ref = innermost
            ids.remove(ref.table, probe.path_params[name], ref.column, tenant)
        return
    if not op.safe and not probe.foreign_in_path and probe.attack != "tamper" and isinstance(probe.body, dict):
        # Whatever P wrote into its own tenant is now that tenant's too (another tenant's unique value,
        # a foreign id it was allowed to reference): P reading it back later is reflection, not a leak.
        # The write itself is judged by write isolation, cross-reference and read-back.
        for value in foreign_rows._scalars(probe.body):
            if isinstance(value, str) and ex.index.scan_any(value):
                ex.index.share(value, tenant)
    table = ids.table_of_path(op.path)
    if not table or "json" not in response.headers.get("content-type", "") or len(response.content) > LEARN_LIMIT:
        return  # a huge body is scanned for markers, not parsed: memory stays a small multiple of it
    try:
        data = response.json()
    except ValueError:
        return
    if probe.attack not in ("own", "collide"):
        return
    if response.status_code == 201 and isinstance(data, dict):
        # The parents the path named are the object's too (a card made under /w/{ws}/boards/{board_id}).
        obj = ids.add_object(table, tenant, {**probe.path_params, **data}, creator=p.name)
        if isinstance(obj.key, str):
            ex.index.add(obj.key, tenant)
        if probe.token:  # values made unique to this request name their owner, whatever the key type
            for value in data.values():
                if isinstance(value, str) and probe.token in value:
                    ex.index.add(value, tenant)
    elif op.method == "GET":
        items = data.get("items") if isinstance(data, dict) else data
        if isinstance(items, list):
            ids.observe(p.name, table, items)
        elif isinstance(data, dict) and "id" in data:
            ids.observe(p.name, table, [data])
