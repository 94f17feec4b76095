"""Phase ``stateful`` (nightly, release): create as A, then read, list, search, update, delete as B.

Seeded ids are what the sweep swaps in; objects born during the run take other code paths (a cache
filled on create, a row whose tenant came from the request). Each create is followed by every
operation addressing that resource type, sent by a principal who must not see A's tenant, carrying
the new object's key (whatever its type, in whichever column the path names it by); then list and
search operations with the object's own values.

A create is a ``POST`` to a collection, nested or not: ``POST /projects`` as well as
``POST /w/{ws}/contacts`` or ``POST /projects/{project_id}/tasks``, its parent parameters filled with
A's own objects (its tenant, its project), as any own request is.
"""

from __future__ import annotations

import random

from harness.fuzz.probes import SEARCH_PARAMS


def creates(ctx, operations) -> list:
    """The ``POST`` operations whose path ends in a collection the world knows (its last segment
    names the table the path is about)."""
    ids = ctx.ids
    out = []
    for op in operations:
        last = op.path.rstrip("/").rsplit("/", 1)[-1]
        table = ids.table_of_path(op.path)
        if op.method == "POST" and table and not last.startswith("{") and ids.table_of_path("/" + last) == table:
            out.append(op)
    return out


def consumers(ctx, operations, table: str) -> list:
    """Operations addressing one object of ``table`` by their innermost path parameter."""
    out = []
    for op in operations:
        innermost = ctx.ids.innermost_ref(op.path)
        if innermost is not None and innermost[1].table == table:
            out.append(op)
    return out


async def run(ctx) -> None:
    builder = ctx.builder(random.Random(ctx.opt.seed))
    ids, ex = ctx.ids, ctx.exchange
    everything = ctx.spec_operations or ctx.operations  # an xdist share attacks every consumer of its creates
    listings = [op for op in everything if op.method == "GET" and any(n in SEARCH_PARAMS for n in op.query_params)]
    for create in creates(ctx, ctx.operations):
        table = ids.table_of_path(create.path)
        attacked = consumers(ctx, everything, table)
        for a in ctx.principals:
            before = ids.newest_created(a.name, table)
            probe = builder.own(create, ctx.templates[create.label][0], a)
            await ex.send(ctx.target.clients[a.name], a, probe, "stateful")
            fresh = ids.newest_created(a.name, table)
            if fresh is None or fresh is before:
                continue
            owner = next(iter(sorted(fresh.owners)), a.tenant)
            body = probe.body if isinstance(probe.body, dict) else {}
            terms = [v for v in body.values() if isinstance(v, str) and len(v) >= 4 and v.isprintable()][:1]
            terms += [fresh.key] if isinstance(fresh.key, str) else []
            for b in ctx.principals:  # every role of the tenants a's own sweep attacks
                if owner in b.visible or b.tenant not in ctx.victims(a):
                    continue
                client = ctx.target.clients[b.name]
                for op in attacked:  # reads before writes before deletes: the order of the operations
                    for attack in builder.foreign_ids(op, ctx.templates[op.label][0], b, owner, {table: fresh}):
                        if attack.foreign_in_path:
                            await ex.send(client, b, attack, "stateful")
                for op in listings:
                    for term in terms:
                        for attack in builder.search(op, ctx.templates[op.label][0], b, owner, term):
                            await ex.send(client, b, attack, "stateful")
