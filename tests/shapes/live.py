"""A scenario's app served in-process on a fresh clone of its world, with the run context a phase sees.

For tests that drive one step of the campaign (learning what a search searches, one phase) without the
rest of it: the same objects the campaign builds (context, target, exchange, generated templates).
"""

from __future__ import annotations

import contextlib
import itertools
import os

import psycopg

from harness.context import Options, RunContext
from harness.coverage import Coverage
from harness.exchange import Exchange
from harness.fuzz import operations as ops_mod
from harness.oracles.write_isolation import ChangeLog
from harness.target import Target
from harness.world import seed_template

_n = itertools.count()


@contextlib.asynccontextmanager
async def running(server, scenario, seed: int = 1, profile: str = "pr"):
    """Yield a :class:`RunContext` whose target, exchange (with the change log), operations and
    templates are ready, as the campaign has them before its first phase."""
    ctx = RunContext.prepare(scenario, Options(seed=seed, profile=profile))
    ctx.server, ctx.tag = server, f"live{os.getpid()}_{next(_n)}"
    ctx.template_db = f"{ctx.tag}_tpl"
    names = [ctx.template_db, f"{ctx.tag}_run"]
    seed_template(server, scenario, ctx.world, ctx.template_db)
    try:
        server.create_database(names[1], template=ctx.template_db)
        ctx.run_db = ctx.database(names[1])
        target = await Target(scenario, app=scenario.create_app(ctx.run_db)).start()
        try:
            for p in ctx.principals:
                await target.login(p)
            spec = await target.spec()
            ctx.index.drop_public(str(spec))
            ops = ops_mod.load_operations(spec, scenario.path_prefixes, scenario.skip_operations)
            ctx.operations, ctx.spec_operations, ctx.target = ops, ops, target
            forbidden = {(op.label, p.name) for op in ops for p in ctx.principals if scenario.is_forbidden(p, op.label)}
            async with await psycopg.AsyncConnection.connect(ctx.run_db.admin_dsn, autocommit=True) as conn:
                changes = ChangeLog(conn, ctx.world.tenant_columns)
                await changes.start()
                ctx.exchange = Exchange(ctx.index, ctx.ids, Coverage([o.label for o in ops],
                                                                     [p.name for p in ctx.principals], forbidden),
                                        ctx.slugs, seed, changes)
                ctx.templates = {op.label: ops_mod.generate(op, ctx.profile.examples + 1, seed) for op in ops}
                yield ctx
        finally:
            await target.close()
    finally:
        for name in reversed(names):
            with contextlib.suppress(Exception):
                server.drop_database(name)
