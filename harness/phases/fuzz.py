"""Phase ``fuzz``: Schemathesis-generated cases for every operation, each sent as every principal.

A share of them (the profile's ``attack_rate``) is mutated into an attack: a foreign id or a tampered
tenant. Generation is done once per operation (it is the expensive part), sending many times.
"""

from __future__ import annotations

import random


async def run(ctx) -> None:
    builder = ctx.builder(random.Random(ctx.opt.seed))
    rng = random.Random(ctx.opt.seed * 7919)
    for op in ctx.operations:
        for template in ctx.templates[op.label][1:]:
            for p in ctx.principals:
                probe = builder.own(op, template, p)
                victims = ctx.victims(p)
                if victims and rng.random() < ctx.profile.attack_rate:
                    victim = rng.choice(victims)
                    attacks = builder.foreign_ids(op, template, p, victim) + builder.tamper(op, template, p, victim)
                    if attacks:
                        probe = rng.choice(attacks)
                await ctx.exchange.send(ctx.target.clients[p.name], p, probe, "fuzz")
