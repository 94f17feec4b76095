"""Phase ``noninterference`` (in-process targets): safe requests and queries replayed on twin worlds.

For each client, a twin database keeps that client's tenants as they are and perturbs every other
tenant (:mod:`harness.twins`); each principal of the client sends the same requests to a base clone
and to its twin. Two sends to the base calibrate what varies by itself; any other difference is a
leak of something computed over foreign rows (see :mod:`harness.oracles.noninterference`).
"""

from __future__ import annotations

import json
import random

from harness.findings import Request
from harness.oracles import noninterference as ni
from harness.queries import generate as generate_params
from harness.scenario import Database, Principal
from harness.target import Target
from harness.twins import perturb


async def run(ctx) -> None:
    if ctx.server is None:
        ctx.skipped.append("non-interference: needs twin databases, which a live target does not have")
        return
    server, ex = ctx.server, ctx.exchange
    base_name = f"{ctx.tag}_nibase"
    server.create_database(base_name, template=ctx.template_db)
    ctx.created.append(base_name)
    base_db = ctx.database(base_name)
    base = await Target(ctx.scenario, app=ctx.scenario.create_app(base_db)).start()
    clients = sorted({t.client for t in ctx.tenants})
    twins: dict[str, tuple[Database, Target]] = {}
    ctx.twins = {}
    try:
        for p in ctx.principals:
            await base.login(p)
        for i, client in enumerate(clients):
            name = f"{ctx.tag}_twin{i}"
            server.create_database(name, template=ctx.template_db)
            ctx.created.append(name)
            keep = frozenset(t.id for t in ctx.tenants if t.client == client)
            ctx.twins[client] = perturb(server.dsn(name), ctx.world.tenant_columns, keep)
            db = ctx.database(name)
            twins[client] = (db, await Target(ctx.scenario, app=ctx.scenario.create_app(db)).start())
            for p in ctx.principals_of(client):
                await twins[client][1].login(p)
        for op in ctx.operations:
            if not op.safe:
                continue
            for client, (_, twin) in twins.items():
                for p in ctx.principals_of(client):
                    builder = ctx.builder(random.Random(f"{ctx.opt.seed}:{op.label}:{p.name}"))
                    for template in ctx.templates[op.label][: ctx.profile.twin_examples]:
                        await _compare(ctx, op, p, builder.own(op, template, p), base, twin, client)
        for query in ctx.queries:
            params_list = generate_params(query, ctx.profile.query_examples, ctx.opt.seed)
            for client, (twin_db, _) in twins.items():
                for p in ctx.principals_of(client):
                    if p.role in query.roles:
                        for params in params_list[: ctx.profile.twin_examples + 1]:
                            _compare_query(ctx, query, params, p, base_db, twin_db, client)
    finally:
        await base.close()
        for _, twin in twins.values():
            await twin.close()


async def _compare(ctx, op, p: Principal, probe, base: Target, twin: Target, client: str) -> None:
    ex = ctx.exchange
    first = await ex.send(base.clients[p.name], p, probe, "noninterference", record=False)
    second = await ex.send(base.clients[p.name], p, probe, "noninterference", record=False)
    other = await ex.send(twin.clients[p.name], p, probe, "noninterference", record=False)
    if first is None or second is None or other is None:
        return
    a, b = ni.parse(first.status_code, first.text), ni.parse(second.status_code, second.text)
    mask = ni.calibrate(a, b, ctx.scenario.volatile_fields)
    diffs = ni.differences(a, ni.parse(other.status_code, other.text), mask)
    if diffs:
        _finding(ctx, op.label, p, client, diffs,
                 Request(op.method, probe.url(), dict(probe.headers), probe.body if op.has_body else None),
                 first.status_code, mask)


def _compare_query(ctx, query, params, p: Principal, base_db, twin_db, client: str) -> None:
    try:
        a1 = ctx.scenario.run_query(base_db, query, params, p)
        a2 = ctx.scenario.run_query(base_db, query, params, p)
        b = ctx.scenario.run_query(twin_db, query, params, p)
    except Exception:
        return
    dump = lambda rows: ni.flatten(json.loads(json.dumps(rows, default=str)))  # noqa: E731
    mask = ni.calibrate(dump(a1), dump(a2), ctx.scenario.volatile_fields)
    diffs = ni.differences(dump(a1), dump(b), mask)
    if diffs:
        _finding(ctx, f"query {query.name}", p, client, diffs, Request("QUERY", query.name, {}, params), None, mask)


def _finding(ctx, label, p, client, diffs, request, status, mask) -> None:
    path, base_value, twin_value = diffs[0]
    evidence = (f"{path}: {base_value!r} in the base world, {twin_value!r} in the twin whose tenants outside "
                f"{client} were perturbed ({len(diffs)} differing value(s); {len(mask)} path(s) masked by "
                f"calibration)")
    locus = path.split("[")[0].split(".")[-1] if "[" not in path else path.split("]")[-1].lstrip(".")
    ctx.exchange.finding("non-interference", "non-interference", "noninterference", label, p,
                         f"tenants outside {client}", evidence, request, status, f"ni:{locus}")
