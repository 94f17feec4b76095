"""One isolation campaign, start to finish: world → template → run clone → phases → findings document.

The campaign builds the :class:`~harness.context.RunContext` (the world, the target, the exchange that
puts every oracle on every response) and runs the selected phases in the order of
:data:`~harness.context.PHASES`; each phase is a module of :mod:`harness.phases`:

1. ``audit`` (nightly, release): row-level security and the app role's rights, from the catalogue.
2. ``replay``: the previous run's findings (same seed), so a fix or a regression shows first.
3. ``sweep``: every operation × principal, own ids, then foreign ids, tampering, foreign search terms.
4. ``reports``: every reporting query × allowed principal × generated parameters, before random writes.
5. ``fuzz``: Schemathesis-generated cases for every operation, each sent as every principal.
6. ``stateful`` (nightly, release): create as A, then read, list, search, update, delete as B.
7. ``noninterference``: safe requests and queries replayed against twin worlds (in-process targets).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import time

import psycopg

from harness import budget, document, live, partition, phases, rootcause
from harness.budget import Budget, OutOfTime
from harness.context import PHASES, Options, RunContext
from harness.coverage import Coverage, promises_from_spec
from harness.db import provide_server
from harness.exchange import Exchange
from harness.fuzz import operations as ops_mod
from harness.oracles import foreign_rows
from harness.oracles.readback import ReadBack
from harness.oracles.references import References
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.rootcause import RootCause
from harness.scenario import Scenario
from harness.target import Target
from harness.world import seed_template

__all__ = ["PHASES", "Campaign", "Options"]


class Campaign:
    #: Named in each finding's ``reproduce`` line; the plugin and the CLI set the real path.
    scenario_path = "scenarios/phoenix.py"
    #: Where the reports go (``--harness-reports``): the ``reproduce`` line names it unless it is ``reports``.
    reports_dir = "reports"

    def __init__(self, scenario: Scenario, options: Options | None = None):
        self.scenario = scenario
        self.opt = options or Options()
        from harness.context import select_phases
        from harness.profiles import get_profile

        select_phases(get_profile(self.opt.profile), self.opt.phases)  # bad options fail before any work

    def run(self) -> dict:
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.monotonic()
        if not self.opt.base_url and getattr(self.scenario, "base_url", None):
            self.opt.base_url = self.scenario.base_url
        policy = live.policy(self.scenario, self.opt) if self.opt.base_url else None  # before any request
        ctx = RunContext.prepare(self.scenario, self.opt)
        ctx.policy = policy
        ctx.budget = self._budget(ctx, t0)
        self.base_url = self.opt.base_url or self.scenario.local_url
        try:
            if self.opt.base_url:
                budget.run(self._run_live(ctx))
            else:
                with provide_server(self.opt.db_url, self.opt.db_mode) as server:
                    budget.run(self._run_in_process(ctx, server))
        except OutOfTime as exc:  # the scan's deadline: what was found so far is the report, incomplete
            ctx.incomplete = "; ".join(filter(None, [ctx.incomplete, str(exc)]))
        except KeyboardInterrupt as exc:  # SIGTERM/SIGINT (harness.signals): keep the partial document
            ctx.incomplete = "; ".join(filter(None, [ctx.incomplete, str(exc) or "interrupted"]))
            self.partial = self._document(ctx, started, t0)
            raise
        doc = self._document(ctx, started, t0)
        if self.opt.corpus and not self.opt.shard:
            from harness import corpus

            doc["run"]["corpus_added"] = corpus.update(self.opt.corpus, doc["findings"])
        return doc

    #: The document of an interrupted run (set before the interruption propagates), for its reports.
    partial: dict | None = None

    def _document(self, ctx: RunContext, started: dt.datetime, t0: float) -> dict:
        if ctx.sql is not None and ctx.exchange is not None:
            ctx.sql.conclude(ctx.exchange)  # latent: unprotected statements no finding explains
        return document.build(ctx, self.base_url, self.scenario_path, self.reports_dir,
                              started=started.isoformat(timespec="seconds"),
                              duration_s=round(time.monotonic() - t0, 2))

    def _budget(self, ctx: RunContext, t0: float) -> Budget:
        p = ctx.profile
        request = self.opt.timeout or getattr(self.scenario, "timeout", None) or p.request_timeout
        deadline = self.opt.deadline if self.opt.deadline is not None else p.deadline
        return Budget(request, deadline, p.phase_deadline, started=t0)

    async def _run_in_process(self, ctx: RunContext, server) -> dict:
        ctx.server, ctx.tag = server, f"th{os.getpid()}_{self.opt.seed}"
        t = time.monotonic()
        try:
            if self.opt.template_db:  # seeded once for every xdist worker: not this run's to drop
                ctx.template_db = self.opt.template_db
            else:
                ctx.template_db = f"{ctx.tag}_tpl"
                ctx.created.append(ctx.template_db)
                seed_template(server, self.scenario, ctx.world, ctx.template_db)
                ctx.log(f"template {ctx.template_db} seeded ({time.monotonic() - t:.2f}s)")
            run_name = f"{ctx.tag}_run"
            server.create_database(run_name, template=ctx.template_db)
            ctx.created.append(run_name)
            ctx.run_db = ctx.database(run_name)
            ctx.sql = await RootCause.start(ctx)  # before the app: its pool's sessions must log
            target = Target(self.scenario, app=self.scenario.create_app(ctx.run_db))
            async with await psycopg.AsyncConnection.connect(ctx.run_db.admin_dsn, autocommit=True) as conn:
                if ctx.sql is not None:
                    ctx.sql.ignore(conn)  # the change log's statements are the harness's, not the app's
                changes = ChangeLog(conn, ctx.world.tenant_columns)
                await changes.start()
                await self._exercise(ctx, target, changes)
            if ctx.sql is not None:
                await ctx.sql.stop()  # the twins are other databases: their findings use the inventory
            if "noninterference" in ctx.phases:
                await self._phase(ctx, "noninterference")
        finally:
            if ctx.sql is not None:
                with contextlib.suppress(Exception):
                    await ctx.sql.stop()
            for name in reversed(ctx.created):
                with contextlib.suppress(Exception):
                    server.drop_database(name)

    async def _run_live(self, ctx: RunContext) -> dict:
        target = live.target(self.scenario, self.opt)
        ctx.skipped.append(rootcause.LIVE)
        if self.opt.target_db_url:
            async with await psycopg.AsyncConnection.connect(self.opt.target_db_url, autocommit=True) as conn:
                digests = Digests(conn, ctx.world.tenant_columns)
                await digests.start()
                await self._exercise(ctx, target, digests)
        else:
            ctx.skipped.append("write isolation: no --target-db-url for the live target's database")
            await self._exercise(ctx, target, None)

    async def _exercise(self, ctx: RunContext, target: Target, changes) -> None:
        """Log in, load the spec, generate each operation's cases once, then phases 1-6."""
        try:
            await target.start()
            spec = await live.connect(ctx, target)  # the spec (servers honoured), sign-ups, logins
            ctx.public_markers = ctx.index.drop_public(json.dumps(spec, ensure_ascii=False))
            if ctx.public_markers:
                ctx.log(f"{len(ctx.public_markers)} markers dropped: published by the API document")
            operations = ops_mod.load_operations(spec, self.scenario.path_prefixes, self.scenario.skip_operations)
            operations = live.exclude(ctx, operations)  # live: dangerous operations, forbidden writes
            _deletes_leaves_first(ctx, operations)
            self.base_url = target.api_base if self.opt.base_url else self.base_url
            ctx.spec_operations, ctx.target = operations, target
            ctx.queries = ctx.spec_queries = list(self.scenario.queries())
            forbidden = {(op.label, p.name) for op in operations for p in ctx.principals
                         if self.scenario.is_forbidden(p, op.label)}
            coverage = Coverage([op.label for op in operations], [p.name for p in ctx.principals], forbidden,
                                promises_from_spec(spec))
            coverage.query_names = [q.name for q in ctx.queries]
            coverage.query_forbidden = {(q.name, p.name) for q in ctx.queries for p in ctx.principals
                                        if p.role not in q.roles}
            if self.opt.shard:  # an xdist worker: its share of the operations and queries, whole resources
                mine, queries = partition.share([op.label for op in operations], [q.name for q in ctx.queries],
                                                *self.opt.shard)
                operations = [op for op in operations if op.label in mine]
                ctx.queries = [q for q in ctx.queries if q.name in queries]
            ctx.operations = operations
            ctx.exchange = Exchange(ctx.index, ctx.ids, coverage, ctx.slugs, self.opt.seed, changes)
            ctx.exchange.budget = ctx.budget
            ctx.exchange.sql = ctx.sql  # root cause in SQL: each request's statements (in-process)
            # Address headers (Location, Link) read against the spec's paths: a redirect to a foreign object.
            ctx.exchange.checks.append(foreign_rows.url_check(ctx.spec_operations or operations))
            if ctx.profile.depth and changes is not None:  # rows a request writes point into their own tenant
                ctx.exchange.checks.append(await References(changes.conn, ctx.world, ctx.log).start())
            if changes is None:  # no database tells what a write did: the owners read their objects back
                ctx.exchange.readback = ReadBack(ctx)
            live.configure(ctx)  # live: requests in flight, rate limit
            t = time.monotonic()
            # The stateful phase attacks every consumer of what its share creates, whoever's share it is.
            generated = ctx.spec_operations if "stateful" in ctx.phases else operations
            ctx.templates = {op.label: ops_mod.generate(op, ctx.profile.examples + 1, self.opt.seed)
                             for op in generated}
            ctx.log(f"{len(operations)} operations, {sum(map(len, ctx.templates.values()))} cases generated "
                    f"({time.monotonic() - t:.2f}s)")
            # The sweep first: the obvious leaks in seconds. Reports then read the world before the fuzz
            # and stateful phases write to it: a deep run deletes enough rows that queries run afterwards
            # would return nothing (a vacuous pass). The sweep's writes are one per principal and op.
            for name in ctx.phases:
                # In-process twins are other apps on clones, run once this target is closed; a live
                # target's twin is the target itself, changed through its API (harness.phases.live_twins).
                if (name == "noninterference" and ctx.server is not None) or (name == "reports" and not ctx.queries):
                    continue
                if name == "audit" and self.opt.shard and self.opt.shard[0] != 0:
                    continue  # the database is one: the first share audits it
                await self._phase(ctx, name)
                if name == "seed":  # a live world exists only now: its parents and children are known
                    for ops in {id(o): o for o in (ctx.spec_operations, ctx.operations)}.values():
                        _deletes_leaves_first(ctx, ops)
                    if self.opt.focus:  # the seed made what the focused operations need; now only they run
                        ctx.operations = [op for op in ctx.operations if op.label in self.opt.focus]
        finally:
            await target.close()

    @staticmethod
    async def _phase(ctx: RunContext, name: str) -> None:
        ex = ctx.exchange
        t, before = time.monotonic(), ex.requests
        ctx.budget.start_phase(name)
        if ctx.sql is not None:
            await ctx.sql.discard()  # what ran between phases (logins, the audit) is no request's
        try:
            await phases.module(name).run(ctx)
            await live.after_phase(ctx, name)  # live: every principal still logs in and sees its objects
        except OutOfTime as exc:
            if exc.scope != "phase":
                raise
            ctx.incomplete = "; ".join(filter(None, [ctx.incomplete, str(exc)]))
            await _settle(ex)
        finally:
            ctx.budget.end_phase()
        ctx.log(f"phase {name}: {ex.requests - before} requests, {len(ex.findings)} findings so far "
                f"({time.monotonic() - t:.2f}s)")


def _deletes_leaves_first(ctx: RunContext, operations: list) -> None:
    """Deletes last, children before parents (in place, stable): deleting a board first would take
    away the cards that ``DELETE /cards/{card_id}`` still has to reach."""
    operations.sort(key=lambda o: ctx.ids.dependents(ctx.ids.table_for("ids", o.path))
                    if o.method == "DELETE" else -1)


async def _settle(ex: Exchange) -> None:
    """Requests still in flight when a phase ran out of time (live concurrency) are cancelled."""
    tasks = [t for t in getattr(ex, "_tasks", ()) if not t.done()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
