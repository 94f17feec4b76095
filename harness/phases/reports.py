"""Phase ``reports``: every reporting query × allowed principal × generated parameters.

Each parameter set runs in the database exactly as the app runs it (the scenario's ``run_query``) and
through the query's HTTP endpoint. It runs before the random writes, so queries see the whole world.
"""

from __future__ import annotations

import json

from harness.exchange import QUERY
from harness.findings import Request
from harness.fuzz import operations as ops_mod
from harness.fuzz.probes import Probe
from harness.oracles import foreign_rows
from harness.queries import every_value, generate as generate_params
from harness.scenario import Principal


async def run(ctx) -> None:
    for query in ctx.queries:
        param_sets = generate_params(query, ctx.profile.query_examples, ctx.opt.seed)
        for p in ctx.principals:
            if p.role not in query.roles:
                continue
            for params in param_sets:
                if ctx.run_db is not None:
                    await in_database(ctx, ctx.run_db, query, params, p)
                if query.endpoint:
                    await over_http(ctx, query, params, p)
        if getattr(ctx.profile, "depth", False):  # every enum value once, the allowed principals taking turns
            allowed = [p for p in ctx.principals if p.role in query.roles]
            for i, params in enumerate(every_value(query) if allowed else ()):
                p = allowed[i % len(allowed)]
                if ctx.run_db is not None:
                    await in_database(ctx, ctx.run_db, query, params, p)
                if query.endpoint:
                    await over_http(ctx, query, params, p)


async def in_database(ctx, db, query, params: dict, p: Principal) -> list | None:
    ex = ctx.exchange
    ex.budget.check()  # a query run is a request too: none past a deadline
    request = Request("QUERY", query.name, {}, params)
    try:
        rows = ctx.scenario.run_query(db, query, params, p)
    except Exception as exc:  # the query rejected these parameters: not a leak, not coverage
        ex.transport_errors.append(f"query {query.name} {params}: {type(exc).__name__}: {exc}"[:300])
        await _ran(ex, query, p, request)
        ex.statements = None
        return None
    await _ran(ex, query, p, request)
    ex.coverage.record_query(query.name, p.name, len(rows))
    text = json.dumps(rows, default=str)
    sent = json.dumps(params, default=str)
    for leak in foreign_rows.check(ctx.index, p.visible, sent, [("rows", text)]):
        ex.finding("foreign-row", "foreign-row", "reports", f"query {query.name}", p,
                   ex.victim_label(leak.owners), f"rows field {leak.locus!r}: {leak.evidence}",
                   request, None, "rows")
    ex.statements = None
    return rows


async def _ran(ex, query, p: Principal, request: Request) -> None:
    """Root cause in SQL (harness.rootcause): the statements this run ran are the query's, and explain
    the findings it adds."""
    if ex.sql is not None:
        ex.statements = await ex.sql.took(f"query {query.name}", query.name, p, request, "reports", "database")


async def over_http(ctx, query, params: dict, p: Principal) -> None:
    method, path = query.endpoint
    match = next(((op, found) for op in ctx.spec_operations or ctx.operations if op.method == method
                  and (found := op.match(path)) is not None), None)
    # An endpoint missing from the spec is still attacked, but cannot count as the spec's coverage.
    op, path_params = match or (ops_mod.Operation(method, path, None, has_body=True), {})
    body = json.loads(json.dumps(params, default=str))  # dates and decimals as JSON strings
    token = QUERY.set(query.name)  # what this request finds belongs to the query, not to the endpoint
    try:
        await ctx.exchange.send(ctx.target.clients[p.name], p, Probe(op, path_params, {}, {}, body), "reports",
                                record=match is not None)
    finally:
        QUERY.reset(token)
