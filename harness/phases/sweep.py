"""Phase ``sweep``: every operation × principal, deterministic, before anything random.

Each principal sends the operation's first generated request with its own ids (coverage), then the
same request with one foreign id per id location and victim, tenant tampering, and a victim's name
as the search term. No generation cost per request: the obvious leaks fall out in seconds.
"""

from __future__ import annotations

import random

from harness.fuzz.probes import Probe, ProbeBuilder
from harness.scenario import Principal


def attacks(ctx, op, template, p: Principal, builder: ProbeBuilder) -> list[Probe]:
    """The sweep's attacks for one operation and principal: foreign ids, tampering, search."""
    victims = ctx.victims(p)
    probes = []
    for victim in victims:
        probes += builder.foreign_ids(op, template, p, victim)
    if victims:
        probes += builder.tamper(op, template, p, victims[0])
        term = ctx.search_term(victims[0])
        if term:
            probes += builder.search(op, template, p, victims[0], term)
    return probes


async def run(ctx) -> None:
    builder = ctx.builder(random.Random(ctx.opt.seed))
    ex = ctx.exchange
    for op in ctx.operations:
        template = ctx.templates[op.label][0]
        for p in ctx.principals:
            client = ctx.target.clients[p.name]
            await ex.send(client, p, builder.own(op, template, p), "sweep")
            for probe in attacks(ctx, op, template, p, builder):
                await ex.send(client, p, probe, "sweep")
