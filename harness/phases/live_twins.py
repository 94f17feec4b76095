"""Non-interference on a live target: the twin is the same service after other tenants changed it.

A live service has one world and no database the harness may clone, so the twin is made through the
API. For each group of principals with the same V(P): every safe request of theirs is sent (the base);
principals of tenants outside V(P) then create one object of every type they can create (the twin's
perturbation), and the requests are sent again (the twin); those principals delete what they just
created, and the requests are sent a third time (the second base, which calibrates). What differs
between the two bases varies by itself (a clock, a generated id) and is masked; any other difference
between the base and the twin answered to a change only in tenants outside V(P): a count, a sum, a
total in a header, an ``ETag``. A type the API cannot delete leaves the second base like the twin, so
its difference is masked: a missed leak, never a false one.

Writes go to the target: the phase runs only where writes are allowed (loopback, or ``--allow-writes``),
and deletes only what it created.
"""

from __future__ import annotations

import json
import random

from harness.exchange import check_foreign_rows
from harness.findings import Request
from harness.fuzz.probes import Probe, ProbeBuilder
from harness.oracles import noninterference as ni
from harness.phases import seed
from harness.phases.noninterference import PHASE, examples, groups, report

__all__ = ["run"]


async def run(ctx) -> None:
    if ctx.policy is None or not ctx.policy.writes:
        ctx.skipped.append("non-interference: a live twin is made by writing to the target (pass --allow-writes)")
        return
    creates = seed.create_operations(ctx)
    if not creates:
        ctx.skipped.append("non-interference: the API has no create operation to change other tenants with")
        return
    await ctx.exchange.drain()
    ctx.twins = {}
    for keep, principals in groups(ctx):
        others = [q for q in ctx.principals if q.tenant not in keep and not (q.visible & keep)]
        label = ",".join(sorted(ctx.slugs.get(t, t) for t in keep))
        if not others:
            continue
        requests = _requests(ctx, principals)
        base = [await _send(ctx, p, probe, check=True) for p, probe in requests]
        made = await _perturb(ctx, others, creates)
        twin = [await _send(ctx, p, probe) for p, probe in requests]
        removed = await _restore(ctx, made)
        again = [await _send(ctx, p, probe) for p, probe in requests]
        ctx.twins[label] = {"created": len(made), "deleted": removed, "requests": len(requests)}
        outside = frozenset(t.id for t in ctx.tenants if t.id not in keep)
        for (p, probe), a, b, c in zip(requests, base, twin, again):
            _judge(ctx, p, probe, a, b, c, outside)


def _requests(ctx, principals) -> list[tuple]:
    """Each principal's own safe requests (generated cases, the same seed giving the same ones)."""
    out = []
    for op in [op for op in ctx.operations if op.safe]:
        for p in principals:
            builder = ProbeBuilder(ctx.ids, [t.id for t in ctx.tenants], ctx.scenario,
                                   random.Random(f"{ctx.opt.seed}:{op.label}:{p.name}:live-twin"))
            sent = set()
            for template in ctx.templates.get(op.label, [])[: examples(ctx, op)]:
                probe = builder.own(op, template, p)
                key = json.dumps([probe.url(), probe.headers], default=str)
                if key not in sent:
                    sent.add(key)
                    out.append((p, probe))
    return out


async def _send(ctx, p, probe: Probe, check: bool = False):
    checks = [check_foreign_rows] if check else []
    return await ctx.exchange.send(ctx.target.clients[p.name], p, probe, PHASE, record=False, checks=checks)


async def _perturb(ctx, others, creates) -> list[tuple]:
    """One new object of every creatable type for each principal outside V(P): (principal, type, key)."""
    made = []
    for q in others:
        for op, kind in creates:
            before = set(seed.own_objects(ctx, kind, q))
            if await seed.create(ctx, op, kind, q, len(before)):
                made += [(q, kind, key) for key in seed.own_objects(ctx, kind, q) if key not in before]
    return made


async def _restore(ctx, made) -> int:
    """Delete what :func:`_perturb` created, children first; returns how many deletes succeeded."""
    deletes = {}
    for op in ctx.operations:
        if op.method == "DELETE" and op.path_params:
            kind = seed.kind_of(ctx, op.innermost, op.path)
            deletes.setdefault(kind, op)
    done = 0
    for q, kind, key in reversed(made):
        op = deletes.get(kind)
        obj = ctx.ids.get(kind, key)
        if op is None or obj is None:
            continue
        params = {}
        for name in op.path_params:
            params[name] = key if name == op.innermost else obj.fields.get(name)
        if any(v is None for v in params.values()):
            continue
        response = await ctx.exchange.send(ctx.target.clients[q.name], q, Probe(op, params, {}, {}, None), PHASE,
                                           record=False)
        done += response is not None and 200 <= response.status_code < 300
    return done


def _judge(ctx, p, probe: Probe, base, twin, again, outside: frozenset[str]) -> None:
    if base is None or twin is None or again is None or ni.identical(base, twin):
        return
    a, b = ni.answer(base), ni.answer(twin)
    mask = ni.calibrate(a, ni.answer(again), ctx.scenario.volatile_fields)
    diffs = ni.differences(a, b, mask)
    if diffs:
        op = probe.operation
        report(ctx, op.label, p, outside, diffs, Request(op.method, probe.url(), dict(probe.headers), None),
               base.status_code, mask, "the same service after tenants outside V(P) created objects")
