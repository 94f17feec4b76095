"""One isolation campaign, start to finish: world → template → clones → phases → findings document.

Phases, in order (each recorded on the findings it produced):
1. ``audit`` (nightly, release): row-level security and the app role's rights, from the catalogue.
2. ``replay``: the previous run's findings (same seed), so a fix or a regression shows first.
3. ``sweep``: every operation × principal, once with the principal's own ids, then with one foreign id
   per id location and victim, tenant tampering and foreign search terms. Deterministic, no generation
   cost per request: the obvious leaks fall out in seconds.
4. ``reports``: every reporting query × allowed principal × generated parameters, in the database as
   the app runs it, and through its endpoint; before the random writes, so queries see the world.
5. ``fuzz``: Schemathesis-generated cases for every operation, each sent as every principal, a share
   of them mutated into attacks.
6. ``stateful`` (nightly, release): create as A, then read, list, search, update, delete as B.
7. ``noninterference``: safe requests and queries replayed against twin worlds (in-process targets).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness import __version__
from harness.coverage import Coverage
from harness.db import provide_server
from harness.errors import HarnessError
from harness.exchange import Exchange
from harness.findings import Request
from harness.fuzz import operations as ops_mod
from harness.fuzz.probes import SEARCH_PARAMS, Probe, ProbeBuilder
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles import db_audit, foreign_rows, noninterference as ni
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.profiles import get_profile
from harness.queries import generate as generate_params
from harness.scenario import Database, Principal, Scenario
from harness.target import Target
from harness.twins import perturb
from harness.world import write_tables


@dataclass
class Options:
    seed: int = 1
    profile: str = "pr"
    db_url: str | None = None
    db_mode: str | None = None
    base_url: str | None = None  # live target
    target_db_url: str | None = None  # the live target's database (superuser), for write isolation
    verbose: bool = False
    #: Where progress lines go (default: stderr); the pytest plugin passes its terminal writer.
    log: object = None
    #: Phases to run (default: the profile's). A developer reproducing one leak may run only ``sweep``.
    phases: tuple[str, ...] | None = None
    #: The previous run's findings.json: its findings are replayed first (same seed only).
    previous: str | None = None


PHASES = ("audit", "replay", "sweep", "reports", "fuzz", "stateful", "noninterference")


class Campaign:
    def __init__(self, scenario: Scenario, options: Options | None = None):
        self.scenario = scenario
        self.opt = options or Options()
        self.profile = get_profile(self.opt.profile)
        self.skipped: list[str] = []
        self._search_terms: dict[str, str | None] = {}
        self.public_markers: list[str] = []  # dropped from the index: the API document publishes them
        self.security_definers: list[str] | None = None  # from the database audit, when it ran
        default = [ph for ph in PHASES if (ph != "stateful" or self.profile.stateful)
                   and (ph != "audit" or self.profile.audit)]
        self.phases = tuple(self.opt.phases or default)
        unknown = sorted(set(self.phases) - set(PHASES))
        if unknown:
            raise HarnessError(f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(PHASES)}")
        if self.opt.phases:
            self.skipped += [f"phase {ph}: not selected" for ph in PHASES if ph not in self.phases]

    def log(self, message: str) -> None:
        if self.opt.verbose:
            (self.opt.log or (lambda line: print(line, file=sys.stderr, flush=True)))(f"[harness] {message}")

    # -- set-up ----------------------------------------------------------------------------------------
    def _prepare_world(self):
        t = time.monotonic()
        self.world = self.scenario.generate_world(self.opt.seed)
        self.tenants = list(self.scenario.tenants(self.world))
        self.principals: list[Principal] = list(self.scenario.principals(self.world))
        if not self.tenants or not self.principals:
            raise HarnessError("the scenario declares no tenants or no principals")
        self.slugs = {t.id: t.slug for t in self.tenants}
        self.index = OwnershipIndex.from_world(self.world)
        self.ids = ResourceIds(self.world, self.scenario.resource_aliases)
        self.log(f"world seed={self.opt.seed}: {sum(map(len, self.world.tables.values()))} rows, "
                 f"{len(self.tenants)} tenants, {len(self.principals)} principals, {len(self.index)} markers "
                 f"({time.monotonic() - t:.2f}s)")

    def run(self) -> dict:
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.monotonic()
        self._prepare_world()
        if self.opt.base_url:
            doc = asyncio.run(self._run_live())
        else:
            with provide_server(self.opt.db_url, self.opt.db_mode) as server:
                doc = asyncio.run(self._run_in_process(server))
        doc["run"].update(started=started.isoformat(timespec="seconds"), duration_s=round(time.monotonic() - t0, 2))
        return doc

    def _database(self, server, name: str) -> Database:
        return Database(name, server.dsn(name), lambda user=None, password=None, _n=name: server.dsn(_n, user, password))

    async def _run_in_process(self, server) -> dict:
        tag = f"th{os.getpid()}_{self.opt.seed}"
        created: list[str] = []
        t = time.monotonic()
        try:
            template = f"{tag}_tpl"
            admin = server.create_database(template)
            created.append(template)
            self.scenario.install(admin)
            with psycopg.connect(admin) as conn:
                write_tables(conn, self.world.tables)
            self.log(f"template {template} seeded ({time.monotonic() - t:.2f}s)")
            run_name = f"{tag}_run"
            server.create_database(run_name, template=template)
            created.append(run_name)
            run_db = self._database(server, run_name)
            target = Target(self.scenario, app=self.scenario.create_app(run_db))
            async with await psycopg.AsyncConnection.connect(run_db.admin_dsn, autocommit=True) as conn:
                changes = ChangeLog(conn, self.world.tenant_columns)
                await changes.start()
                exchange = await self._exercise(target, changes, run_db)
            twins = (await self._noninterference(server, template, tag, created, exchange)
                     if "noninterference" in self.phases else None)
            return self._document(exchange, self.scenario.local_url, twins)
        finally:
            for name in reversed(created):
                with contextlib.suppress(Exception):
                    server.drop_database(name)

    async def _run_live(self) -> dict:
        target = Target(self.scenario, base_url=self.opt.base_url)
        self.skipped.append("non-interference: needs twin databases, which a live target does not have")
        if self.opt.target_db_url:
            async with await psycopg.AsyncConnection.connect(self.opt.target_db_url, autocommit=True) as conn:
                digests = Digests(conn, self.world.tenant_columns)
                await digests.start()
                exchange = await self._exercise(target, digests, None)
        else:
            self.skipped.append("write isolation: no --target-db-url for the live target's database")
            exchange = await self._exercise(target, None, None)
        return self._document(exchange, self.opt.base_url, None)

    # -- phases 1-6 --------------------------------------------------------------------------------------
    async def _exercise(self, target: Target, digests, run_db: Database | None) -> Exchange:
        try:
            await target.start()
            for p in self.principals:
                await target.login(p)
            spec = await target.spec()
            self.public_markers = self.index.drop_public(json.dumps(spec, ensure_ascii=False))
            if self.public_markers:
                self.log(f"{len(self.public_markers)} markers dropped: published by the API document")
            self.operations = ops_mod.load_operations(spec, self.scenario.path_prefixes, self.scenario.skip_operations)
            self.operations.sort(key=lambda o: self.ids.dependents(self.ids.table_for("ids", o.path))
                                 if o.method == "DELETE" else -1)
            self.queries = list(self.scenario.queries())
            forbidden = {(op.label, p.name) for op in self.operations for p in self.principals
                         if self.scenario.is_forbidden(p, op.label)}
            coverage = Coverage([op.label for op in self.operations], [p.name for p in self.principals], forbidden)
            coverage.query_names = [q.name for q in self.queries]
            coverage.query_forbidden = {(q.name, p.name) for q in self.queries for p in self.principals
                                        if p.role not in q.roles}
            exchange = Exchange(self.index, self.ids, coverage, self.slugs, self.opt.seed, digests)
            t = time.monotonic()
            self.templates = {op.label: ops_mod.generate(op, self.profile.examples + 1, self.opt.seed)
                              for op in self.operations}
            self.log(f"{len(self.operations)} operations, "
                     f"{sum(map(len, self.templates.values()))} cases generated ({time.monotonic() - t:.2f}s)")
            builder = ProbeBuilder(self.ids, [t.id for t in self.tenants], self.scenario, random.Random(self.opt.seed))
            # The sweep first: the obvious leaks in seconds. Reports then read the world before the fuzz
            # and stateful phases write to it: a deep run deletes enough rows that queries run afterwards
            # would return nothing (a vacuous pass). The sweep's writes are one per principal and op.
            for name, fn, args in (("audit", self._audit, (run_db,)), ("replay", self._replay, ()),
                                   ("sweep", self._sweep, (builder,)), ("reports", self._reports, (run_db,)),
                                   ("fuzz", self._fuzz, (builder,)), ("stateful", self._stateful, (builder,))):
                if name in self.phases and (name != "reports" or self.queries):
                    await self._phase(name, fn, target, exchange, *args)
            return exchange
        finally:
            await target.close()

    async def _phase(self, name, fn, *args) -> None:
        t, before = time.monotonic(), args[1].requests
        await fn(*args)
        self.log(f"phase {name}: {args[1].requests - before} requests, {len(args[1].findings)} findings so far "
                 f"({time.monotonic() - t:.2f}s)")

    def victims(self, p: Principal) -> list[str]:
        """One foreign tenant of another client, and one sibling outside V(P) if there is one."""
        home_client = next(t.client for t in self.tenants if t.id == p.tenant)
        outside = [t for t in self.tenants if t.id not in p.visible]
        picks = [next((t for t in outside if t.client != home_client), None),
                 next((t for t in outside if t.client == home_client), None)]
        return [t.id for t in picks if t is not None]

    def search_term(self, victim: str) -> str | None:
        """A name-like marker of ``victim`` to search for (memoised: the sweep asks per request)."""
        terms = self._search_terms
        if victim not in terms:
            names = sorted(m for m in self.index.markers_of(victim)
                           if "@" not in m and "-" not in m[:9] and " " in m)
            terms[victim] = names[0] if names else None
        return terms[victim]

    async def _audit(self, target: Target, ex: Exchange, run_db: Database | None) -> None:
        """Row-level security and roles as the catalogue has them (see :mod:`harness.oracles.db_audit`)."""
        dsn = run_db.admin_dsn if run_db is not None else self.opt.target_db_url
        if not dsn:
            self.skipped.append("audit: no database (pass --target-db-url for a live target)")
            return
        issues, self.security_definers = db_audit.audit(dsn, self.world.tenant_columns, self.scenario.app_role,
                                                          self.scenario.rls)
        who = Principal(f"database:{self.scenario.app_role or 'catalogue'}", "database", "", frozenset())
        for issue in issues:
            ex.finding("db-audit", "db-audit", "audit", issue.subject, who, "every tenant",
                       f"{issue.check}: {issue.detail}", None, None, issue.check)

    async def _replay(self, target: Target, ex: Exchange) -> None:
        """The previous run's findings first, so a fix (or a regression) shows in the first seconds."""
        from harness.reproduce import probe_for

        path = Path(self.opt.previous) if self.opt.previous else None
        if path is None or not path.is_file():
            return
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            self.skipped.append(f"replay: {path} is not valid JSON")
            return
        if doc.get("run", {}).get("seed") != self.opt.seed:
            self.skipped.append(f"replay: {path} was seeded with {doc.get('run', {}).get('seed')}, not {self.opt.seed}")
            return
        principals = {p.name: p for p in self.principals}
        for f in doc.get("findings", []):
            request, p = f.get("request") or {}, principals.get(f.get("principal"))
            if p is None or request.get("method") in (None, "QUERY") or f.get("kind") == "non-interference":
                continue
            try:
                probe = probe_for(f, self.operations)
            except HarnessError:
                continue  # the operation left the spec
            await ex.send(target.clients[p.name], p, probe, "replay")

    def sweep_attacks(self, op, template, p: Principal, builder: ProbeBuilder) -> list[Probe]:
        """The sweep's attacks for one operation and principal: foreign ids, tampering, search."""
        victims = self.victims(p)
        probes = []
        for victim in victims:
            probes += builder.foreign_ids(op, template, p, victim)
        if victims:
            probes += builder.tamper(op, template, p, victims[0])
            term = self.search_term(victims[0])
            if term:
                probes += builder.search(op, template, p, victims[0], term)
        return probes

    async def _sweep(self, target: Target, ex: Exchange, builder: ProbeBuilder) -> None:
        for op in self.operations:
            template = self.templates[op.label][0]
            for p in self.principals:
                client = target.clients[p.name]
                await ex.send(client, p, builder.own(op, template, p), "sweep")
                for probe in self.sweep_attacks(op, template, p, builder):
                    await ex.send(client, p, probe, "sweep")

    async def _fuzz(self, target: Target, ex: Exchange, builder: ProbeBuilder) -> None:
        rng = random.Random(self.opt.seed * 7919)
        for op in self.operations:
            for template in self.templates[op.label][1:]:
                for p in self.principals:
                    probe = builder.own(op, template, p)
                    victims = self.victims(p)
                    if victims and rng.random() < self.profile.attack_rate:
                        victim = rng.choice(victims)
                        attacks = builder.foreign_ids(op, template, p, victim) + builder.tamper(op, template, p, victim)
                        if attacks:
                            probe = rng.choice(attacks)
                    await ex.send(target.clients[p.name], p, probe, "fuzz")

    async def _stateful(self, target: Target, ex: Exchange, builder: ProbeBuilder) -> None:
        """Create as A, then read, list, search, update and delete that fresh object as B.

        Seeded ids are what the sweep swaps in; objects born during the run take other code paths
        (a cache filled on create, a row whose tenant came from the request). Each create is followed
        by every operation addressing that resource type, sent by a principal who must not see A's
        tenant, carrying the new id; then list and search operations with the object's own values.
        """
        creates = [op for op in self.operations if op.method == "POST" and not op.path_params
                   and self.ids.table_for("ids", op.path)]
        listings = [op for op in self.operations if op.method == "GET" and not op.path_params
                    and any(n in SEARCH_PARAMS for n in op.query_params)]
        for create in creates:
            table = self.ids.table_for("ids", create.path)
            consumers = [op for op in self.operations if op.path_params
                         and self.ids.table_for(op.path_params[-1], op.path) == table]
            for a in self.principals:
                before = self.ids.created_by(a.name, table)
                probe = builder.own(create, self.templates[create.label][0], a)
                await ex.send(target.clients[a.name], a, probe, "stateful")
                fresh = self.ids.created_by(a.name, table)
                if not fresh or fresh == before:
                    continue
                body = probe.body if isinstance(probe.body, dict) else {}
                terms = [v for v in body.values() if isinstance(v, str) and len(v) >= 4 and v.isprintable()]
                for b in self.principals:  # every role of the tenants a's own sweep attacks
                    if a.tenant in b.visible or b.tenant not in self.victims(a):
                        continue
                    client = target.clients[b.name]
                    for op in consumers:  # reads before writes before deletes: the order of self.operations
                        for attack in builder.foreign_ids(op, self.templates[op.label][0], b, a.tenant, {table: fresh}):
                            if attack.foreign_in_path:
                                await ex.send(client, b, attack, "stateful")
                    for op in listings:
                        for term in terms[:1] + [fresh]:
                            for attack in builder.search(op, self.templates[op.label][0], b, a.tenant, term):
                                await ex.send(client, b, attack, "stateful")

    async def _reports(self, target: Target, ex: Exchange, run_db: Database | None) -> None:
        for query in self.queries:
            param_sets = generate_params(query, self.profile.query_examples, self.opt.seed)
            for p in self.principals:
                if p.role not in query.roles:
                    continue
                for params in param_sets:
                    if run_db is not None:
                        self._query_in_db(ex, run_db, query, params, p)
                    if query.endpoint:
                        await self._query_over_http(target, ex, query, params, p)

    def _query_in_db(self, ex: Exchange, db: Database, query, params: dict, p: Principal) -> list | None:
        try:
            rows = self.scenario.run_query(db, query, params, p)
        except Exception as exc:  # the query rejected these parameters: not a leak, not coverage
            ex.transport_errors.append(f"query {query.name} {params}: {type(exc).__name__}: {exc}"[:300])
            return None
        ex.coverage.record_query(query.name, p.name, len(rows))
        text = json.dumps(rows, default=str)
        sent = json.dumps(params, default=str)
        for leak in foreign_rows.check(self.index, p.visible, sent, [("rows", text)]):
            ex.finding("foreign-row", "foreign-row", "reports", f"query {query.name}", p,
                       ex.victim_label(leak.owners), f"rows field {leak.locus!r}: {leak.evidence}",
                       Request("QUERY", query.name, {}, params), None, "rows")
        return rows

    async def _query_over_http(self, target, ex: Exchange, query, params: dict, p: Principal) -> None:
        method, path = query.endpoint
        match = next(((op, found) for op in self.operations if op.method == method
                      and (found := op.match(path)) is not None), None)
        # An endpoint missing from the spec is still attacked, but cannot count as the spec's coverage.
        op, path_params = match or (ops_mod.Operation(method, path, None, has_body=True), {})
        body = json.loads(json.dumps(params, default=str))  # dates and decimals as JSON strings
        await ex.send(target.clients[p.name], p, Probe(op, path_params, {}, {}, body), "reports",
                      record=match is not None)

    # -- phase 4 -------------------------------------------------------------------------------------------
    async def _noninterference(self, server, template: str, tag: str, created: list[str], ex: Exchange):
        t, before = time.monotonic(), ex.requests
        base_name = f"{tag}_nibase"
        server.create_database(base_name, template=template)
        created.append(base_name)
        base_db = self._database(server, base_name)
        base = await Target(self.scenario, app=self.scenario.create_app(base_db)).start()
        clients = sorted({t.client for t in self.tenants})
        twins: dict[str, tuple[Database, Target]] = {}
        summary = {}
        try:
            for p in self.principals:
                await base.login(p)
            for i, client in enumerate(clients):
                name = f"{tag}_twin{i}"
                server.create_database(name, template=template)
                created.append(name)
                keep = frozenset(t.id for t in self.tenants if t.client == client)
                summary[client] = perturb(server.dsn(name), self.world.tenant_columns, keep)
                db = self._database(server, name)
                twins[client] = (db, await Target(self.scenario, app=self.scenario.create_app(db)).start())
                for p in self._principals_of(client):
                    await twins[client][1].login(p)
            for op in self.operations:
                if not op.safe:
                    continue
                for client, (_, twin) in twins.items():
                    for p in self._principals_of(client):
                        builder = ProbeBuilder(self.ids, [t.id for t in self.tenants], self.scenario,
                                               random.Random(f"{self.opt.seed}:{op.label}:{p.name}"))
                        for template_ in self.templates[op.label][: self.profile.twin_examples]:
                            await self._compare(ex, op, p, builder.own(op, template_, p), base, twin, client)
            for query in self.queries:
                params_list = generate_params(query, self.profile.query_examples, self.opt.seed)
                for client, (twin_db, _) in twins.items():
                    for p in self._principals_of(client):
                        if p.role in query.roles:
                            for params in params_list[: self.profile.twin_examples + 1]:
                                self._compare_query(ex, query, params, p, base_db, twin_db, client)
        finally:
            await base.close()
            for _, twin in twins.values():
                await twin.close()
        self.log(f"phase noninterference: {ex.requests - before} requests, {len(ex.findings)} findings so far "
                 f"({time.monotonic() - t:.2f}s)")
        return summary

    def _principals_of(self, client: str) -> list[Principal]:
        home = {t.id: t.client for t in self.tenants}
        return [p for p in self.principals if home[p.tenant] == client]

    async def _compare(self, ex: Exchange, op, p: Principal, probe, base: Target, twin: Target, client: str):
        first = await ex.send(base.clients[p.name], p, probe, "noninterference", record=False)
        second = await ex.send(base.clients[p.name], p, probe, "noninterference", record=False)
        other = await ex.send(twin.clients[p.name], p, probe, "noninterference", record=False)
        if first is None or second is None or other is None:
            return
        a, b = ni.parse(first.status_code, first.text), ni.parse(second.status_code, second.text)
        mask = ni.calibrate(a, b, self.scenario.volatile_fields)
        diffs = ni.differences(a, ni.parse(other.status_code, other.text), mask)
        if diffs:
            self._ni_finding(ex, op.label, p, client, diffs, Request(op.method, probe.url(), dict(probe.headers),
                                                                      probe.body if op.has_body else None),
                             first.status_code, mask)

    def _compare_query(self, ex: Exchange, query, params, p: Principal, base_db, twin_db, client: str) -> None:
        try:
            a1 = self.scenario.run_query(base_db, query, params, p)
            a2 = self.scenario.run_query(base_db, query, params, p)
            b = self.scenario.run_query(twin_db, query, params, p)
        except Exception:
            return
        dump = lambda rows: ni.flatten(json.loads(json.dumps(rows, default=str)))  # noqa: E731
        mask = ni.calibrate(dump(a1), dump(a2), self.scenario.volatile_fields)
        diffs = ni.differences(dump(a1), dump(b), mask)
        if diffs:
            self._ni_finding(ex, f"query {query.name}", p, client, diffs, Request("QUERY", query.name, {}, params),
                             None, mask)

    def _ni_finding(self, ex, label, p, client, diffs, request, status, mask) -> None:
        path, base_value, twin_value = diffs[0]
        evidence = (f"{path}: {base_value!r} in the base world, {twin_value!r} in the twin whose tenants outside "
                    f"{client} were perturbed ({len(diffs)} differing value(s); {len(mask)} path(s) masked by "
                    f"calibration)")
        locus = path.split("[")[0].split(".")[-1] if "[" not in path else path.split("]")[-1].lstrip(".")
        ex.finding("non-interference", "non-interference", "noninterference", label, p, f"tenants outside {client}",
                   evidence, request, status, f"ni:{locus}")

    # -- the document ----------------------------------------------------------------------------------------
    def _document(self, ex: Exchange, base_url: str, twins) -> dict:
        cov = ex.coverage
        problems = cov.problems()
        findings = []
        for f in sorted(ex.findings.values(), key=lambda f: (f.requests_before, f.id)):
            d = f.as_dict(base_url, f"tenant-harness reproduce {f.id} --scenario {self.scenario_path} "
                                    f"--seed {self.opt.seed}")
            d["occurrences"] = ex.occurrences[f.id]
            findings.append(d)
        rows = cov.operation_rows()
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("covered", "forbidden", "uncovered")}
        return {
            "run": {"seed": self.opt.seed, "profile": self.profile.name, "target": base_url,
                    "scenario": self.scenario.name, "harness_version": __version__,
                    "principals": [p.name for p in self.principals], "operations": [op.label for op in self.operations],
                    "queries": [q.name for q in self.queries], "requests": ex.requests,
                    "server_errors": ex.server_errors, "markers": len(self.index),
                    "public_markers": self.public_markers, "security_definer": self.security_definers,
                    "skipped": list(self.skipped), "twins": twins},
            "coverage": rows,
            "queries": cov.query_rows(),
            "findings": findings,
            "summary": {"findings": len(findings), **counts, "queries_covered": cov.covered_queries(),
                        "queries": len(cov.query_names), "ok": not findings and not problems,
                        "problems": problems, "errors": ex.transport_errors[:20]},
        }

    scenario_path = "scenarios/phoenix.py"
