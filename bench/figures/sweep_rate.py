"""Figure 2: the deterministic sweep's request rate through the harness vs a raw httpx loop.

The sweep's probes are built exactly as the ``sweep`` phase builds them (own ids, one foreign id per id
location and victim, tenant tampering, foreign search terms), once, for every principal. They are then
sent once with a plain loop (no oracle) and once through ``Exchange.send``, each on its own fresh clone of
one seeded template so that the writes of one run cannot change the other's answers.
"""

from __future__ import annotations

import asyncio
import random

from bench.figures.support import (Context, clock, harness_exchange, measure, median, result, seed_template,
                                   send_plain, serving)
from harness.context import Options, RunContext
from harness.fuzz import operations as ops_mod
from harness.phases.sweep import attacks

NUMBER, NAME = 2, "sweep_rate"
TITLE = "Deterministic sweep: harness requests/s vs raw httpx requests/s"
GOAL = 0.8


def run(ctx: Context) -> dict:
    from scenarios.phoenix import PhoenixScenario

    if ctx.quick:
        return asyncio.run(_run(ctx, PhoenixScenario(clients=2, subsidiaries=1), reps=1, max_ops=6))
    return asyncio.run(_run(ctx, PhoenixScenario(), reps=3, max_ops=None))


def sweep_probes(ctx: RunContext, operations, seed: int) -> list:
    """(principal, probe) pairs in the order the ``sweep`` phase sends them."""
    builder = ctx.builder(random.Random(seed))
    pairs = []
    for op in operations:
        template = ops_mod.generate(op, 1, seed)[0]
        for p in ctx.principals:
            pairs.append((p, builder.own(op, template, p)))
            pairs += [(p, probe) for probe in attacks(ctx, op, template, p, builder)]
    return pairs


async def _run(ctx: Context, scenario, reps: int, max_ops: int | None) -> dict:
    run = RunContext.prepare(scenario, Options(seed=ctx.seed))  # world, index and ids as a campaign builds them
    world, principals = run.world, run.principals
    template = seed_template(ctx.server, scenario, world)
    try:
        async with serving(ctx.server, scenario, template, principals[:1]) as (target, _):
            spec = await target.spec()
        operations = ops_mod.load_operations(spec, scenario.path_prefixes, scenario.skip_operations)[:max_ops]
        t = clock()
        pairs = sweep_probes(run, operations, ctx.seed)
        build_s = clock() - t
        rates: dict[str, list[float]] = {"raw": [], "harness": []}
        for rep in range(reps):
            for side in (("raw", "harness") if rep % 2 == 0 else ("harness", "raw")):
                async with serving(ctx.server, scenario, template, principals) as (target, db):
                    if side == "raw":
                        t = clock()
                        for p, probe in pairs:
                            await send_plain(target.clients[p.name], probe)
                        elapsed = clock() - t
                    else:
                        async with harness_exchange(world, scenario, db, principals,
                                                    [op.label for op in operations], ctx.seed) as ex:
                            t = clock()
                            for p, probe in pairs:
                                await ex.send(target.clients[p.name], p, probe, "sweep")
                            elapsed = clock() - t
                rates[side].append(len(pairs) / elapsed)
    finally:
        ctx.server.drop_database(template)
    raw, harness = median(rates["raw"]), median(rates["harness"])
    ratio = harness / raw
    return result(
        NUMBER, NAME, TITLE,
        measure(harness, "req/s", "harness"), measure(raw, "req/s", "raw httpx"),
        ratio, "harness rate / raw rate (higher is better)", f">= {GOAL}", ratio >= GOAL,
        requests=len(pairs), operations=len(operations), principals=len(principals),
        tenants=len(run.tenants), repetitions=reps,
        rates={k: [round(v, 1) for v in vs] for k, vs in rates.items()},
        probe_build_s=round(build_s, 3),
        note="probe building (including one Schemathesis case per operation) is timed apart; each side "
             "runs on its own fresh clone of the same template, order alternating between repetitions")
