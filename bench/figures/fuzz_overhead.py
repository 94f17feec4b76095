"""Figure 1: what the harness's per-request path costs on top of plain Schemathesis + httpx.

The same Schemathesis-generated cases (own ids filled in, as the harness sends them) go to the same
in-process app as one principal, once through a plain ``httpx.AsyncClient`` with no oracle and once
through ``Exchange.send`` (ownership-index scan, coverage, the audit-trigger change log). Each side runs on its own
fresh clone, the order alternates, and the median of the repetitions is reported. Generation is timed
apart: it is the same for both and would otherwise hide the overhead.
"""

from __future__ import annotations

import asyncio
import random

from bench.figures.support import (Context, clock, harness_exchange, measure, median, pick_principal, result,
                                   seed_template, send_plain, serving)
from harness.fuzz import operations as ops_mod
from harness.fuzz.probes import ProbeBuilder
from harness.fuzz.resources import ResourceIds

NUMBER, NAME = 1, "fuzz_overhead"
TITLE = "Endpoint fuzzing: harness per-request path vs plain Schemathesis + httpx"
GOAL = 1.15
PRINCIPAL = "techcorp-east:admin"


def run(ctx: Context) -> dict:
    from scenarios.phoenix import PhoenixScenario

    examples, reps, max_ops = (2, 1, 8) if ctx.quick else (10, 3, None)
    return asyncio.run(_run(ctx, PhoenixScenario(), examples, reps, max_ops))


async def _run(ctx: Context, scenario, examples: int, reps: int, max_ops: int | None) -> dict:
    world = scenario.generate_world(ctx.seed)
    p = pick_principal(scenario.principals(world), PRINCIPAL)
    template = seed_template(ctx.server, scenario, world)
    try:
        async with serving(ctx.server, scenario, template, [p]) as (target, _):
            spec = await target.spec()
        operations = ops_mod.load_operations(spec, scenario.path_prefixes, scenario.skip_operations)[:max_ops]
        t = clock()
        cases = {op.label: ops_mod.generate(op, examples, ctx.seed) for op in operations}
        generation_s = clock() - t
        builder = ProbeBuilder(ResourceIds(world, scenario.resource_aliases), [x.id for x in scenario.tenants(world)], scenario,
                               random.Random(ctx.seed))
        probes = [builder.own(op, case, p) for op in operations for case in cases[op.label]]
        times: dict[str, list[float]] = {"baseline": [], "harness": []}
        split: dict[str, list[dict]] = {"baseline": [], "harness": []}
        for rep in range(reps):
            for side in (("baseline", "harness") if rep % 2 == 0 else ("harness", "baseline")):
                async with serving(ctx.server, scenario, template, [p]) as (target, db):
                    client = target.clients[p.name]
                    if side == "baseline":
                        total, by_safety = await _send_all(probes, lambda probe: send_plain(client, probe))
                    else:
                        async with harness_exchange(world, scenario, db, [p], [op.label for op in operations],
                                                    ctx.seed) as ex:
                            total, by_safety = await _send_all(probes, lambda probe: ex.send(client, p, probe, "fuzz"))
                times[side].append(total)
                split[side].append(by_safety)
    finally:
        ctx.server.drop_database(template)
    base, harness = median(times["baseline"]), median(times["harness"])
    n = len(probes)
    ratio = harness / base
    return result(
        NUMBER, NAME, TITLE,
        measure(harness, "s", f"harness {n / harness:.0f} req/s"),
        measure(base, "s", f"plain httpx {n / base:.0f} req/s"),
        ratio, "harness time / plain time (lower is better)", f"<= {GOAL}", ratio <= GOAL,
        principal=p.name, operations=len(operations), cases_per_operation=examples, requests=n,
        repetitions=reps, runs_s={k: [round(v, 3) for v in vs] for k, vs in times.items()},
        generation_s=round(generation_s, 3), generation_cases_per_s=round(n / generation_s, 1),
        overhead_us_per_request=round((harness - base) / n * 1e6, 1),
        by_safety={side: {kind: round(median([s[kind] for s in runs]), 3) for kind in ("safe_s", "unsafe_s")}
                   for side, runs in split.items()},
        safe_requests=sum(probe.operation.safe for probe in probes),
        note="same probes for both sides, each side on its own fresh clone; time excludes generation, "
             "logins and the digest snapshot taken once at start")


async def _send_all(probes, send) -> tuple[float, dict]:
    safe = unsafe = 0.0
    for probe in probes:
        t = clock()
        await send(probe)
        elapsed = clock() - t
        if probe.operation.safe:
            safe += elapsed
        else:
            unsafe += elapsed
    return safe + unsafe, {"safe_s": safe, "unsafe_s": unsafe}

