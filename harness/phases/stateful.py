"""Phase ``stateful`` (nightly, release): create as A, then read, list, search, update, delete as B.

Seeded ids are what the sweep swaps in; objects born during the run take other code paths (a cache
filled on create, a row whose tenant came from the request). Each create is followed by every
operation addressing that resource type, sent by a principal who must not see A's tenant, carrying
the new id; then list and search operations with the object's own values.
"""

from __future__ import annotations

import random

from harness.fuzz.probes import SEARCH_PARAMS


async def run(ctx) -> None:
    builder = ctx.builder(random.Random(ctx.opt.seed))
    ids, ex = ctx.ids, ctx.exchange
    creates = [op for op in ctx.operations if op.method == "POST" and not op.path_params
               and ids.table_for("ids", op.path)]
    listings = [op for op in ctx.operations if op.method == "GET" and not op.path_params
                and any(n in SEARCH_PARAMS for n in op.query_params)]
    for create in creates:
        table = ids.table_for("ids", create.path)
        consumers = [op for op in ctx.operations if op.path_params
                     and ids.table_for(op.path_params[-1], op.path) == table]
        for a in ctx.principals:
            before = ids.created_by(a.name, table)
            probe = builder.own(create, ctx.templates[create.label][0], a)
            await ex.send(ctx.target.clients[a.name], a, probe, "stateful")
            fresh = ids.created_by(a.name, table)
            if not fresh or fresh == before:
                continue
            body = probe.body if isinstance(probe.body, dict) else {}
            terms = [v for v in body.values() if isinstance(v, str) and len(v) >= 4 and v.isprintable()]
            for b in ctx.principals:  # every role of the tenants a's own sweep attacks
                if a.tenant in b.visible or b.tenant not in ctx.victims(a):
                    continue
                client = ctx.target.clients[b.name]
                for op in consumers:  # reads before writes before deletes: the order of ctx.operations
                    for attack in builder.foreign_ids(op, ctx.templates[op.label][0], b, a.tenant, {table: fresh}):
                        if attack.foreign_in_path:
                            await ex.send(client, b, attack, "stateful")
                for op in listings:
                    for term in terms[:1] + [fresh]:
                        for attack in builder.search(op, ctx.templates[op.label][0], b, a.tenant, term):
                            await ex.send(client, b, attack, "stateful")
