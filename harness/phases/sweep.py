"""Phase ``sweep``: every operation × principal, deterministic, before anything random.

Each principal sends the operation's first generated request with its own ids (coverage), then the
same request with one foreign id per id location and victim, tenant tampering, and a victim's name
as the search term. No generation cost per request: the obvious leaks fall out in seconds.

With the profile's ``depth`` the sweep reaches one step further, for one principal per role and
operation (the principals of a role take turns over the operations, so every tenant is used): each
enum and boolean value and each paging bound (:func:`~harness.fuzz.operations.systematic`), the list's
later pages (:mod:`harness.fuzz.pagination`), every body reference with own ids and then a foreign
one (:mod:`harness.fuzz.references`), and the existence oracle's comparisons
(:mod:`harness.oracles.existence`). Every request goes through the exchange: every oracle sees it.
"""

from __future__ import annotations

import asyncio
import copy
import random

from harness.fuzz import pagination, searchable
from harness.fuzz import references as refs
from harness.fuzz.operations import Systematic, Variant, systematic
from harness.fuzz.probes import Probe, ProbeBuilder
from harness.oracles.existence import AbsentIds, UniqueValues, freshened
from harness.scenario import Principal


def attacks(ctx, op, template, p: Principal, builder: ProbeBuilder) -> list[Probe]:
    """The sweep's attacks for one operation and principal: foreign ids, tampering, search terms,
    another tenant's new unique values; and the scenario's values for its filters."""
    victims = ctx.victims(p)
    probes = []
    for victim in victims:
        probes += builder.foreign_ids(op, template, p, victim)
    if victims:
        probes += builder.tamper(op, template, p, victims[0])
        for term in ctx.search_terms(victims[0], op):
            probes += builder.search(op, template, p, victims[0], term)
        probes += builder.collide(op, template, p, victims[0])
    probes += builder.variants(op, template, p)  # own, with each value the scenario supplies
    return probes


def deputies(principals, index: int) -> set[str]:
    """One principal per role for operation number ``index``, the role's principals taking turns."""
    by_role: dict[str, list] = {}
    for p in principals:
        by_role.setdefault(p.role, []).append(p)
    return {group[index % len(group)].name for group in by_role.values()}


async def run(ctx) -> None:
    await searchable.learn(ctx)  # which fields each search looks at: the victims' terms come from those
    ex = ctx.exchange
    depth = Depth(ctx) if getattr(ctx.profile, "depth", False) else None
    # Randomness and turns per operation, not per position in this run: an xdist share of the operations
    # makes the same choices for each operation as a serial run does.
    position = {o.label: k for k, o in enumerate(ctx.spec_operations or ctx.operations)}
    for op in ctx.progress("sweep", ctx.operations):
        builder = ctx.builder(random.Random(f"{ctx.opt.seed}:{op.label}"))
        template = ctx.templates[op.label][0]
        chosen = deputies(ctx.principals, position[op.label]) if depth else set()
        for p in ctx.principals:
            if p.name in chosen:
                continue
            client = ctx.target.clients[p.name]
            await ex.submit(client, p, builder.own(op, template, p), "sweep")
            for probe in attacks(ctx, op, template, p, builder):
                await ex.submit(client, p, probe, "sweep")
        deep = [p for p in ctx.principals if p.name in chosen]
        if deep and ex.concurrency > 1:
            # Live, requests in flight: the deputies' deeper requests go alongside the others', each with a
            # generator of its own (the order in which concurrent requests draw must not change the draws).
            await asyncio.gather(*(depth.sweep(op, template, p, ctx.builder(
                random.Random(f"{ctx.opt.seed}:{op.label}:depth:{p.name}"))) for p in deep))
        await ex.drain()  # live targets: an operation's requests are all in before the next one's
        if ex.concurrency <= 1:
            for p in deep:
                await depth.sweep(op, template, p, builder)


def _shown(ex) -> int:
    return sum(ex.occurrences.values())


class Depth:
    """The sweep's deeper requests for one principal and operation (``profile.depth``)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.absent = AbsentIds(ctx)
        self.unique = UniqueValues(ctx)
        self.plans: dict[str, Systematic] = {}

    def plan(self, op) -> Systematic:
        """The operation's systematic values; an endpoint serving the reporting queries gets its
        values from the reports phase, which knows each report's own parameters."""
        if op.label not in self.plans:
            serves = any(q.endpoint and q.endpoint[0] == op.method and op.match(q.endpoint[1]) is not None
                         for q in self.ctx.spec_queries or self.ctx.queries)
            self.plans[op.label] = Systematic() if serves else systematic(op)
        return self.plans[op.label]

    async def sweep(self, op, template, p: Principal, builder: ProbeBuilder) -> None:
        ctx, ex = self.ctx, self.ctx.exchange
        rng = random.Random(f"{ctx.opt.seed}:depth:{op.label}:{p.name}")  # the same draws in an xdist share
        client = ctx.target.clients[p.name]
        own = builder.own(op, template, p)
        response = await ex.send(client, p, own, "sweep")
        for probe in attacks(ctx, op, template, p, builder):
            before = _shown(ex)
            answer = await ex.send(client, p, probe, "sweep")
            if probe.foreign_in_path:
                await self.absent.compare(client, p, probe, answer, _shown(ex) != before)
        for _ in range(2):  # an object that is gone (or was mislearned) gives no base: pick another
            if response is None or response.status_code != 404 or not op.path_params:
                break
            own = builder.own(op, template, p)
            response = await ex.send(client, p, own, "sweep")
        if response is None or response.status_code in (401, 403):
            return  # the role may not call it: its values, pages and references would all be refused
        plan = self.plan(op)
        for variant in plan.variants:
            probe = vary(own, variant, ex.ids, rng)
            if probe is not None:
                await ex.send(client, p, probe, "sweep")
        if op.method == "GET":
            await self.follow(client, p, own, response, plan.bounds)
        base = await self.references(op, template, p, own, plan, rng)
        if op.method in ("POST", "PUT", "PATCH"):
            skip = {v.name for v in plan.variants if v.where == "body"} | set(ctx.scenario.tenant_params)
            skip |= set(refs.references(ex.ids, op, base.body if isinstance(base.body, dict) else {}))
            await self.unique.probe(client, p, base, plan.properties or (base.body or {}), skip)

    async def follow(self, client, p: Principal, own: Probe, response, bounds: dict) -> None:
        """The list's own next pages, up to the profile's ``pages`` (the first included)."""
        ex = self.ctx.exchange
        probe = pagination.first_page(own, bounds)
        if probe is not None:
            response = await ex.send(client, p, probe, "sweep")
        else:
            probe = own
        seen = {probe.url()}
        for _ in range(self.ctx.profile.pages - 1):
            if response is None or not 200 <= response.status_code < 300:
                return
            nxt = pagination.next_page(probe, response)
            if nxt is None or nxt.url() in seen:
                return
            seen.add(nxt.url())
            probe, response = nxt, await ex.send(client, p, nxt, "sweep")

    async def references(self, op, template, p: Principal, own: Probe, plan, rng: random.Random) -> Probe:
        """Every body reference with own ids (the base), then one foreign id per field and victim.
        Returns the base (``own`` when the body names no resource)."""
        ctx, ex = self.ctx, self.ctx.exchange
        properties = plan.properties or (template.body if isinstance(template.body, dict) else {})
        names = refs.references(ex.ids, op, properties, ctx.scenario.tenant_params)
        if not names or not isinstance(own.body, dict):
            return own
        client = ctx.target.clients[p.name]
        # On the own request's object (it answered); a create's free text fresh, not to clash with it.
        body = freshened(own.body, rng) if op.method == "POST" else own.body
        base = refs.own_references(ex.ids, refs.with_references(own, properties, names, body), names, p, rng)
        if base.body != own.body:
            await ex.send(client, p, base, "sweep")
        for victim in ctx.victims(p):
            for probe in refs.foreign_references(ex.ids, base, names, victim):
                await ex.send(client, p, probe, "sweep")
        return base


def vary(own: Probe, variant: Variant, ids, rng: random.Random) -> Probe | None:
    """``own`` with one parameter set to a systematic value (None when it changes nothing or the
    parameter is an id, which stays the principal's own). A create's free text is fresh each time, so
    that it does not clash with the object the own request made."""
    op = own.operation
    if ids.table_for(variant.name, op.path) or variant.name in ("id", "ids"):
        return None
    query, body = dict(own.query), copy.deepcopy(own.body)
    if variant.where == "query":
        if query.get(variant.name) == variant.value:
            return None
        query[variant.name] = variant.value
    else:
        if not isinstance(body, dict) or body.get(variant.name) == variant.value:
            return None
        body[variant.name] = variant.value
    if op.method == "POST" and isinstance(body, dict):
        body = freshened(body, rng)
        if variant.where == "body":
            body[variant.name] = variant.value  # an enum's value is text too: it stays as chosen
    return Probe(op, dict(own.path_params), query, dict(own.headers), body, "own", notes=[variant.note],
                 encoding=getattr(own, "encoding", None))
