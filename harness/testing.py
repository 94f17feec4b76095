"""Isolation tests written by hand: a seeded world served to every principal, and the scan's oracles
as assertions.

A scan finds a leak; a developer then wants an ordinary pytest test that pins it (and stays in the
suite once it is fixed). :class:`Isolation` gives that test the same world the scan had (the scenario's
world from the same seed, on a fresh clone of its template), every principal logged in, and the
scan's own oracles as assertions:

- :meth:`Isolation.assert_no_foreign_rows`: no value of a tenant outside V(P) in a response;
- :meth:`Isolation.assert_same_for_twins`: the same request answers the same in a twin world whose
  tenants outside V(P) were perturbed (counts, sums, headers);
- :meth:`Isolation.replay`: one finding of a scan's ``findings.json`` sent again, judged by the very
  checks that found it (what ``tenant-harness reproduce`` and the generated ``reports/repro`` tests use).

The pytest fixtures in :mod:`harness.fixtures` build one for a test. It is synchronous (tests are):
the app, its lifespan and the clients live on an event loop in a background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import threading
from urllib.parse import unquote

import httpx
import psycopg

from harness.context import Options, RunContext
from harness.errors import HarnessError
from harness.scenario import Principal, Scenario
from harness.target import Target

__all__ = ["Isolation", "Replayed"]

_names = itertools.count()


class _Loop:
    """An event loop in a daemon thread; :meth:`run` waits for one coroutine on it."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="harness-isolation", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class Replayed:
    """What replaying one finding observed: ``reproduced`` when the same finding (same id) occurred."""

    def __init__(self, finding: dict, seen: list[dict], status: int | None):
        self.finding, self.seen, self.status = finding, seen, status

    @property
    def reproduced(self) -> bool:
        return any(f["id"] == self.finding["id"] for f in self.seen)

    def describe(self) -> str:
        head = f"{self.finding['id']} {self.finding['kind']} on {self.finding['operation']} as {self.finding['principal']}"
        if not self.reproduced:
            return f"{head}: not reproduced (answered {self.status})"
        same = next(f for f in self.seen if f["id"] == self.finding["id"])
        return f"{head} still leaks (answered {self.status}): {same['evidence']}"


class Isolation:
    """One world for hand-written isolation tests: in-process on a clone of ``template`` (a database on
    ``server`` seeded with the scenario's world for ``seed``), or a live ``base_url``."""

    def __init__(self, scenario: Scenario, seed: int = 1, *, server=None, template: str | None = None,
                 base_url: str | None = None):
        if base_url is None and (server is None or template is None):
            raise HarnessError("an Isolation needs a database server and a seeded template, or a base URL")
        self.scenario, self.seed, self.server, self.template = scenario, seed, server, template
        self.ctx = RunContext.prepare(scenario, Options(seed=seed, base_url=base_url))
        self._loop = _Loop()
        self._created: list[str] = []
        self._twins: dict[frozenset, tuple] = {}
        self._operations = None
        self.db = None
        try:
            if base_url is None:
                name = f"thiso{os.getpid()}_{next(_names)}"
                server.create_database(name, template=template)
                self._created.append(name)
                self.ctx.server, self.ctx.template_db = server, template
                self.db = self.ctx.database(name)
                self.target = self._serve(self.db)
            else:
                self.target = self._run(self._live(base_url))
        except BaseException:
            self.close()
            raise

    # -- the world -------------------------------------------------------------------------------------
    @property
    def principals(self) -> list[Principal]:
        return self.ctx.principals

    def principal(self, name: str) -> Principal:
        found = next((p for p in self.ctx.principals if p.name == name), None)
        if found is None:
            raise HarnessError(f"no principal {name!r} in the scenario (known: "
                               f"{', '.join(p.name for p in self.ctx.principals)})")
        return found

    @property
    def world(self):
        return self.ctx.world

    def _p(self, principal) -> Principal:
        return principal if isinstance(principal, Principal) else self.principal(principal)

    # -- requests --------------------------------------------------------------------------------------
    def request(self, principal, method: str, url: str, **kwargs) -> httpx.Response:
        """Send a request as ``principal`` (a :class:`Principal` or its name), logged in."""
        p = self._p(principal)
        return self._run(self.target.clients[p.name].request(method, url, **kwargs))

    def get(self, principal, url: str, **kwargs) -> httpx.Response:
        return self.request(principal, "GET", url, **kwargs)

    def post(self, principal, url: str, **kwargs) -> httpx.Response:
        return self.request(principal, "POST", url, **kwargs)

    def run_query(self, name: str, params: dict, principal) -> list:
        """A reporting query run in the database as the app runs it, as ``principal``."""
        query = next((q for q in self.scenario.queries() if q.name == name), None)
        if query is None or self.db is None:
            raise HarnessError(f"no reporting query {name!r} to run here")
        return self.scenario.run_query(self.db, query, params, self._p(principal))

    # -- the oracles as assertions ---------------------------------------------------------------------
    def foreign_rows(self, response: httpx.Response, principal) -> list[str]:
        """Every leak in ``response`` to ``principal`` (what the scan's foreign-row oracle reports)."""
        from harness.oracles import foreign_rows

        p = self._p(principal)
        request = response.request
        sent = unquote(str(request.url.raw_path, "ascii", "replace")) if request is not None else ""
        if request is not None and request.content:
            sent += "\n" + request.content.decode("utf-8", "replace")
        parts = foreign_rows.response_parts(response.headers, response.text)
        leaks = foreign_rows.check(self.ctx.index, p.visible, sent, parts)
        out = [f"{leak.where} field {leak.locus!r} → {self._victims(leak.owners)}: {leak.evidence}" for leak in leaks]
        for leak in foreign_rows.url_leaks(self.ctx.ids, self._ops(), p.visible, response.headers,
                                           _sent_values(request)):
            out.append(f"{leak.where} header → {self._victims(leak.owners)}: {leak.evidence}")
        return out

    def assert_no_foreign_rows(self, response: httpx.Response, principal) -> None:
        leaks = self.foreign_rows(response, principal)
        if leaks:
            raise AssertionError(f"{len(leaks)} foreign value(s) in {response.request.method} {response.request.url} "
                                 f"answered to {self._p(principal).name}:\n" + "\n".join(leaks[:10]))

    def twin_differences(self, principal, method: str, url: str, **kwargs) -> list[tuple]:
        """(path, base value, twin value) of what differs when only tenants outside V(P) change."""
        from harness.oracles import noninterference as ni

        p = self._p(principal)
        base, twin, again = self._twin_worlds(p)
        answers = [self._run(t.clients[p.name].request(method, url, **kwargs)) for t in (base, twin, again)]
        a, b, c = (ni.answer(r) for r in answers)
        return ni.differences(a, b, ni.calibrate(a, c, self.scenario.volatile_fields))

    def assert_same_for_twins(self, principal, method: str, url: str, **kwargs) -> None:
        from harness.oracles.noninterference import clip_pair

        diffs = self.twin_differences(principal, method, url, **kwargs)
        if diffs:
            lines = [f"{path}: {' in the base, '.join(clip_pair(x, y))} in the twin" for path, x, y in diffs[:10]]
            raise AssertionError(f"{method} {url} answered {self._p(principal).name} differently when only tenants "
                                 f"outside its visibility changed ({len(diffs)} value(s)):\n" + "\n".join(lines))

    # -- replaying a finding ---------------------------------------------------------------------------
    def replay(self, finding: dict) -> Replayed:
        """Send a finding's request again and judge it with the checks that found it."""
        request = finding.get("request") or {}
        p = self.principal(finding["principal"])
        if finding.get("kind") == "non-interference" and request.get("method") not in (None, "QUERY"):
            diffs = self.twin_differences(p, request["method"], request["url"], **_body(request))
            seen = [{**finding, "evidence": "; ".join(f"{d[0]}: {d[1]!r} → {d[2]!r}" for d in diffs[:3])}] if diffs else []
            return Replayed(finding, seen, None)
        if request.get("method") == "QUERY":
            return self._replay_query(finding, p)
        if finding.get("kind") == "existence":
            return self._run(self._replay_existence(finding, p))
        return self._run(self._replay_http(finding, p))

    async def _replay_existence(self, finding: dict, p: Principal) -> Replayed:
        """The recorded request against its control: an id that exists nowhere in the same place (the
        answers must have one shape), or a fresh value in the same field (409 only for the held one)."""
        import random

        from harness.fuzz.probes import probe_from_request
        from harness.oracles import existence

        probe = probe_from_request(finding, await self._operations_async())
        client = self.target.clients[p.name]
        where, _, name = str(finding.get("locus", "")).partition(":")
        rng = random.Random(f"{self.seed}:{finding['id']}")
        control = None
        if where == "path" and name in probe.path_params:
            ref = self.ctx.ids.ref_for(name, probe.operation.path)
            known = self.ctx.ids.values(ref) if ref is not None else ()
            control = probe.path_params | {name: existence.absent_like(probe.path_params[name], known, rng)}
            control = type(probe)(probe.operation, control, dict(probe.query), dict(probe.headers), probe.body)
        elif where == "body" and isinstance(probe.body, dict) and isinstance(probe.body.get(name), str):
            body = {**probe.body, name: existence.fresh_like(probe.body[name], rng)}
            control = type(probe)(probe.operation, dict(probe.path_params), dict(probe.query), dict(probe.headers), body)
        if control is None:
            return Replayed(finding, [], None)

        async def send(q):
            body = q.body if q.operation.has_body else None
            return await client.request(q.operation.method, q.path, params=q.query, headers=q.headers,
                                        **({"json": body} if body is not None else {}))

        answer, other = await send(probe), await send(control)
        if where == "path":
            leaks = existence.shape(answer) != existence.shape(other)
        else:
            leaks = answer.status_code == 409 and 200 <= other.status_code < 300
        seen = [{**finding, "evidence": f"{existence.shape(answer)} for the recorded request, "
                                        f"{existence.shape(other)} for its control"}] if leaks else []
        return Replayed(finding, seen, answer.status_code)

    def _replay_query(self, finding: dict, p: Principal) -> Replayed:
        from harness.oracles import foreign_rows

        rows = self.run_query(request_name(finding), finding["request"].get("body") or {}, p)
        text = json.dumps(rows, default=str, ensure_ascii=False)
        leaks = foreign_rows.check(self.ctx.index, p.visible, "", [("body", text)])
        seen = [{**finding, "evidence": leak.evidence} for leak in leaks[:1]] if finding["kind"] == "foreign-row" else []
        return Replayed(finding, seen, None)

    async def _replay_http(self, finding: dict, p: Principal) -> Replayed:
        from harness.coverage import Coverage
        from harness.exchange import Exchange
        from harness.fuzz.probes import probe_from_request
        from harness.oracles import foreign_rows
        from harness.oracles.write_isolation import ChangeLog

        operations = await self._operations_async()
        probe = probe_from_request(finding, operations)
        client = self.target.clients[p.name]
        if self.db is None:  # live: no change log; the foreign-row and address checks still judge it
            ex = Exchange(self.ctx.index, self.ctx.ids, Coverage([], [], set()), self.ctx.slugs, self.seed)
            ex.checks.append(foreign_rows.url_check(operations))
            response = await ex.send(client, p, probe, "replay")
        else:
            async with await psycopg.AsyncConnection.connect(self.db.admin_dsn, autocommit=True) as conn:
                changes = ChangeLog(conn, self.ctx.world.tenant_columns)
                await changes.start()
                ex = Exchange(self.ctx.index, self.ctx.ids, Coverage([], [], set()), self.ctx.slugs, self.seed, changes)
                ex.checks.append(foreign_rows.url_check(operations))  # as the scan: a Location naming a foreign object
                response = await ex.send(client, p, probe, "replay")
        seen = [{"id": f.id, "kind": f.kind, "evidence": f.evidence, "victim_tenant": f.victim_tenant}
                for f in ex.findings.values()]
        return Replayed(finding, seen, response.status_code if response is not None else None)

    # -- plumbing --------------------------------------------------------------------------------------
    def _run(self, coro, timeout: float = 120.0):
        return self._loop.run(coro, timeout)

    def _serve(self, db, principals=None) -> Target:
        async def go():
            target = await Target(self.scenario, app=self.scenario.create_app(db)).start()
            try:
                for p in self.ctx.principals if principals is None else principals:
                    await target.login(p)
            except BaseException:
                await target.close()
                raise
            return target
        return self._run(go())

    async def _live(self, base_url: str) -> Target:
        from harness import live

        target = live.target(self.scenario, Options(base_url=base_url))
        await target.spec()  # honours servers[0].url before anyone logs in
        for p in self.ctx.principals:
            await target.login(p)
        return target

    async def _operations_async(self):
        if self._operations is None:
            from harness.fuzz.operations import load_operations

            self._operations = load_operations(await self.target.spec())
        return self._operations

    def _ops(self):
        return self._run(self._operations_async()) if self._operations is None else self._operations

    def _twin_worlds(self, p: Principal) -> tuple:
        """Base, twin (tenants outside V(P) perturbed) and a second base, each served, per V(P)."""
        from harness.twins import perturb

        if self.db is None:
            raise HarnessError("twin worlds need the in-process target's database (a live target has one world)")
        key = frozenset(p.visible)
        if key not in self._twins:
            made = []
            for role in ("base", "twin", "again"):
                name = f"thiso{os.getpid()}_{next(_names)}_{role}"
                self.server.create_database(name, template=self.template)
                self._created.append(name)
                if role == "twin":
                    perturb(self.server.dsn(name), self.ctx.world.tenant_columns, key, self.seed)
                # Only P logs in: a principal of a perturbed tenant may have lost its own row there.
                made.append(self._serve(self.ctx.database(name), [p]))
            self._twins[key] = tuple(made)
        return self._twins[key]

    def _victims(self, owners) -> str:
        return ", ".join(sorted(self.ctx.slugs.get(t, t) for t in owners))

    def close(self) -> None:
        targets = [t for ts in self._twins.values() for t in ts]
        if getattr(self, "target", None) is not None:
            targets.append(self.target)
        for target in targets:
            with contextlib.suppress(Exception):  # closing: the first error must not leak the rest
                self._run(target.close(), timeout=30)
        self._twins, self.target = {}, None
        self._loop.close()
        for name in reversed(self._created):
            with contextlib.suppress(Exception):
                self.server.drop_database(name)
        self._created = []

    def __enter__(self) -> "Isolation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def request_name(finding: dict) -> str:
    """The query a ``QUERY`` request ran (its URL holds the name)."""
    return str((finding.get("request") or {}).get("url") or finding.get("query") or "").removeprefix("query ")


def _sent_values(request: httpx.Request | None) -> set[str]:
    """Every value a request carried (path segments, query values, body scalars), decoded."""
    if request is None:
        return set()
    values = {unquote(s) for s in request.url.path.split("/") if s}
    values |= {v for _, v in request.url.params.multi_items()}
    try:
        body = json.loads(request.content) if request.content else None
    except ValueError:
        body = None
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
        elif item is not None:
            values.add(str(item))
    return values


def _body(request: dict) -> dict:
    body = request.get("body")
    return {} if body is None else {"json": body}
