"""Phase ``fuzz``: Schemathesis-generated cases for every operation, each sent as every principal.

A share of them (the profile's ``attack_rate``) is mutated into an attack: a foreign id or a tampered
tenant. Generation is done once per operation (it is the expensive part), sending many times.
"""

from __future__ import annotations

import random


async def run(ctx) -> None:
    for op in ctx.progress("fuzz", ctx.operations):
        # Seeded per operation: an xdist share of the operations draws the same attacks as a serial run.
        builder = ctx.builder(random.Random(f"{ctx.opt.seed}:{op.label}"))
        rng = random.Random(f"{ctx.opt.seed * 7919}:{op.label}")
        for template in ctx.templates[op.label][1:]:
            for p in ctx.principals:
                probe = builder.own(op, template, p)
                victims = ctx.victims(p)
                if victims and rng.random() < ctx.profile.attack_rate:
                    victim = rng.choice(victims)
                    attacks = builder.foreign_ids(op, template, p, victim) + builder.tamper(op, template, p, victim)
                    if attacks:
                        probe = rng.choice(attacks)
                await ctx.exchange.submit(ctx.target.clients[p.name], p, probe, "fuzz")
        await ctx.exchange.drain()  # live targets: an operation's requests are all in before the next one's
