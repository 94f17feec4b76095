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

from harness import document, phases
from harness.context import PHASES, Options, RunContext
from harness.coverage import Coverage
from harness.db import provide_server
from harness.exchange import Exchange
from harness.fuzz import operations as ops_mod
from harness.oracles.write_isolation import ChangeLog, Digests
from harness.scenario import Scenario
from harness.target import Target
from harness.world import seed_template

__all__ = ["PHASES", "Campaign", "Options"]


class Campaign:
    #: Named in each finding's ``reproduce`` line; the plugin and the CLI set the real path.
    scenario_path = "scenarios/phoenix.py"

    def __init__(self, scenario: Scenario, options: Options | None = None):
        self.scenario = scenario
        self.opt = options or Options()
        from harness.context import select_phases
        from harness.profiles import get_profile

        select_phases(get_profile(self.opt.profile), self.opt.phases)  # bad options fail before any work

    def run(self) -> dict:
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.monotonic()
        ctx = RunContext.prepare(self.scenario, self.opt)
        if self.opt.base_url:
            doc = asyncio.run(self._run_live(ctx))
        else:
            with provide_server(self.opt.db_url, self.opt.db_mode) as server:
                doc = asyncio.run(self._run_in_process(ctx, server))
        doc["run"].update(started=started.isoformat(timespec="seconds"), duration_s=round(time.monotonic() - t0, 2))
        return doc

    async def _run_in_process(self, ctx: RunContext, server) -> dict:
        ctx.server, ctx.tag = server, f"th{os.getpid()}_{self.opt.seed}"
        t = time.monotonic()
        try:
            ctx.template_db = f"{ctx.tag}_tpl"
            ctx.created.append(ctx.template_db)
            seed_template(server, self.scenario, ctx.world, ctx.template_db)
            ctx.log(f"template {ctx.template_db} seeded ({time.monotonic() - t:.2f}s)")
            run_name = f"{ctx.tag}_run"
            server.create_database(run_name, template=ctx.template_db)
            ctx.created.append(run_name)
            ctx.run_db = ctx.database(run_name)
            target = Target(self.scenario, app=self.scenario.create_app(ctx.run_db))
            async with await psycopg.AsyncConnection.connect(ctx.run_db.admin_dsn, autocommit=True) as conn:
                changes = ChangeLog(conn, ctx.world.tenant_columns)
                await changes.start()
                await self._exercise(ctx, target, changes)
            if "noninterference" in ctx.phases:
                await self._phase(ctx, "noninterference")
            return document.build(ctx, self.scenario.local_url, self.scenario_path)
        finally:
            for name in reversed(ctx.created):
                with contextlib.suppress(Exception):
                    server.drop_database(name)

    async def _run_live(self, ctx: RunContext) -> dict:
        target = Target(self.scenario, base_url=self.opt.base_url)
        if "noninterference" in ctx.phases:
            ctx.skipped.append("non-interference: needs twin databases, which a live target does not have")
        if self.opt.target_db_url:
            async with await psycopg.AsyncConnection.connect(self.opt.target_db_url, autocommit=True) as conn:
                digests = Digests(conn, ctx.world.tenant_columns)
                await digests.start()
                await self._exercise(ctx, target, digests)
        else:
            ctx.skipped.append("write isolation: no --target-db-url for the live target's database")
            await self._exercise(ctx, target, None)
        return document.build(ctx, self.opt.base_url, self.scenario_path)

    async def _exercise(self, ctx: RunContext, target: Target, changes) -> None:
        """Log in, load the spec, generate each operation's cases once, then phases 1-6."""
        try:
            await target.start()
            for p in ctx.principals:
                await target.login(p)
            spec = await target.spec()
            ctx.public_markers = ctx.index.drop_public(json.dumps(spec, ensure_ascii=False))
            if ctx.public_markers:
                ctx.log(f"{len(ctx.public_markers)} markers dropped: published by the API document")
            operations = ops_mod.load_operations(spec, self.scenario.path_prefixes, self.scenario.skip_operations)
            operations.sort(key=lambda o: ctx.ids.dependents(ctx.ids.table_for("ids", o.path))
                            if o.method == "DELETE" else -1)
            ctx.operations, ctx.target = operations, target
            ctx.queries = list(self.scenario.queries())
            forbidden = {(op.label, p.name) for op in operations for p in ctx.principals
                         if self.scenario.is_forbidden(p, op.label)}
            coverage = Coverage([op.label for op in operations], [p.name for p in ctx.principals], forbidden)
            coverage.query_names = [q.name for q in ctx.queries]
            coverage.query_forbidden = {(q.name, p.name) for q in ctx.queries for p in ctx.principals
                                        if p.role not in q.roles}
            ctx.exchange = Exchange(ctx.index, ctx.ids, coverage, ctx.slugs, self.opt.seed, changes)
            t = time.monotonic()
            ctx.templates = {op.label: ops_mod.generate(op, ctx.profile.examples + 1, self.opt.seed)
                             for op in operations}
            ctx.log(f"{len(operations)} operations, {sum(map(len, ctx.templates.values()))} cases generated "
                    f"({time.monotonic() - t:.2f}s)")
            # The sweep first: the obvious leaks in seconds. Reports then read the world before the fuzz
            # and stateful phases write to it: a deep run deletes enough rows that queries run afterwards
            # would return nothing (a vacuous pass). The sweep's writes are one per principal and op.
            for name in ctx.phases:
                if name == "noninterference" or (name == "reports" and not ctx.queries):
                    continue
                await self._phase(ctx, name)
        finally:
            await target.close()

    @staticmethod
    async def _phase(ctx: RunContext, name: str) -> None:
        ex = ctx.exchange
        t, before = time.monotonic(), ex.requests
        await phases.module(name).run(ctx)
        ctx.log(f"phase {name}: {ex.requests - before} requests, {len(ex.findings)} findings so far "
                f"({time.monotonic() - t:.2f}s)")
