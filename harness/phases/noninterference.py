"""Phase ``noninterference`` (in-process targets): every principal's requests replayed on twin worlds.

Principals are grouped by V(P), the tenants they may see (a user in two workspaces, a corporate admin
of a whole client, a user of one tenant: whatever the scenario says, no "client" needed); one twin per
distinct V(P) keeps exactly those tenants and perturbs every other (:mod:`harness.twins`). Per group,
three fresh clones of the template: the base, the twin, and a second base that calibrates (see
:mod:`harness.oracles.noninterference`). Each principal of the group sends the same requests to the
three, in this order:

1. every safe operation (``twin_list_examples`` generated cases for a collection, ``twin_examples``
   for the rest, a repeated case once), then every reporting query in the database; a read goes to the
   second base only when the base and the twin differ (identical bytes need no calibration);
2. its own unsafe requests (creates, updates, deletes last): the clones are throwaway. A write cannot be
   calibrated by sending it twice (a second create is a duplicate), but the second base receives the
   very same sequence of requests, so what varies between the bases varies by itself (a new random id,
   a timestamp) and everything else must match the twin, status and body included: a create refused
   with 409 in one world and accepted in the other, a report run by ``POST`` that sums every tenant.

Requests use only the world's own objects (not those created during the run, which the clones do not
have) and a generator seeded per operation and principal, so the same seed sends the same requests
and finds the same differences. With ``depth`` off (the bench baseline) the phase is what it was before
issue 12: one twin per client, one shared base sent each request twice, safe requests only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

from harness.exchange import QUERY, check_foreign_rows
from harness.findings import Request
from harness.fuzz.probes import ProbeBuilder
from harness.fuzz.resources import ResourceIds
from harness.oracles import noninterference as ni
from harness.queries import generate as generate_params
from harness.scenario import Database, Principal
from harness.target import Target
from harness.twins import perturb

PHASE = "noninterference"


def groups(ctx) -> list[tuple[frozenset[str], list[Principal]]]:
    """Principals by the tenants their twin keeps: V(P) itself (depth), else the home client's tenants."""
    by_keep: dict[frozenset[str], list[Principal]] = {}
    client = {t.id: t.client for t in ctx.tenants}
    for p in ctx.principals:
        keep = p.visible if ctx.profile.depth else frozenset(
            t.id for t in ctx.tenants if t.client == client[p.tenant])
        by_keep.setdefault(frozenset(keep), []).append(p)
    return sorted(by_keep.items(), key=lambda kv: sorted(ctx.slugs.get(t, t) for t in kv[0]))


class Worlds:
    """The base, the twin and the calibrating base of one group: a (database, app) pair each."""

    def __init__(self, base, twin, calibration):
        self.base, self.twin, self.calibration = base, twin, calibration


async def run(ctx) -> None:
    if ctx.server is None:  # a live target: the twin is made through its API
        from harness.phases import live_twins

        await live_twins.run(ctx)
        return
    ids = world_ids(ctx)
    ctx.twins = {}
    plan = groups(ctx)
    shared = None
    # The next group's databases are cloned and perturbed in a thread while this group's requests run:
    # cloning is the server's work, and would otherwise be most of the phase on a small world.
    pending = asyncio.ensure_future(asyncio.to_thread(_clone, ctx, 0, plan[0][0])) if plan else None
    try:
        if not ctx.profile.depth:  # before issue 12: one base for every group, calibrated by a second send
            shared = await _serve(ctx, _clone_one(ctx, "nibase")[0], ctx.principals)
        for i, (keep, principals) in enumerate(plan):
            names, touched = await pending
            pending = asyncio.ensure_future(asyncio.to_thread(_clone, ctx, i + 1, plan[i + 1][0])) \
                if i + 1 < len(plan) else None
            label = ",".join(sorted(ctx.slugs.get(t, t) for t in keep))
            ctx.twins[label] = touched
            async with _worlds(ctx, names, principals, shared) as worlds:
                await _group(ctx, worlds, keep, principals, ids)
    finally:
        if pending is not None:
            with contextlib.suppress(Exception):
                await pending
        if shared is not None:
            await _close(ctx, shared)


def world_ids(ctx) -> ResourceIds:
    """The world's own objects, exactly what every clone holds. Not what the run's lists showed: that
    depends on which operations ran before (a share of a divided run lists fewer), and the twin
    requests, like their findings, must be the same whoever ran the rest."""
    return ResourceIds(ctx.world, ctx.scenario.resource_aliases, getattr(ctx.scenario, "resource_keys", None))


async def _group(ctx, worlds: Worlds, keep: frozenset[str], principals: list[Principal], ids: ResourceIds) -> None:
    outside = frozenset(t.id for t in ctx.tenants if t.id not in keep)
    for op in [op for op in ctx.operations if op.safe]:
        await _operation(ctx, op, worlds, principals, ids, outside)
    _queries(ctx, worlds, principals, outside)
    if ctx.profile.depth:  # in campaign order: creates and updates, deletes last
        for op in [op for op in ctx.operations if not op.safe]:
            await _operation(ctx, op, worlds, principals, ids, outside)


async def _operation(ctx, op, worlds: Worlds, principals: list[Principal], ids: ResourceIds,
                     outside: frozenset[str]) -> None:
    for p in principals:
        builder = ProbeBuilder(ids, [t.id for t in ctx.tenants], ctx.scenario,
                               random.Random(f"{ctx.opt.seed}:{op.label}:{p.name}"))
        sent = set()
        for template in ctx.templates.get(op.label, [])[: examples(ctx, op)]:
            probe = builder.own(op, template, p)
            key = json.dumps([probe.url(), probe.body if op.has_body else None, probe.headers], default=str)
            if key not in sent or not ctx.profile.depth:  # generated cases often repeat: once is enough
                sent.add(key)
                await _compare(ctx, op, p, probe, worlds, outside)


def examples(ctx, op) -> int:
    """Generated cases compared per operation and principal: more for a collection (whose filters take
    branches) than for one object (``depth``), fewer for a write."""
    profile = ctx.profile
    if not op.safe:  # each write changes the worlds for the next: a few suffice
        return max(1, profile.twin_examples // 2)
    if profile.depth and not op.path.rstrip("/").endswith("}"):
        return max(profile.twin_examples, profile.twin_list_examples)
    return profile.twin_examples


def _queries(ctx, worlds: Worlds, principals: list[Principal], outside: frozenset[str]) -> None:
    count = ctx.profile.twin_examples + 1
    if ctx.profile.depth:
        count = max(count, ctx.profile.twin_list_examples)
    for query in ctx.queries:
        params_list = generate_params(query, ctx.profile.query_examples, ctx.opt.seed)[:count]
        for p in principals:
            if p.role in query.roles:
                for params in params_list:
                    _compare_query(ctx, query, params, p, worlds, outside)


async def _compare(ctx, op, p: Principal, probe, worlds: Worlds, outside: frozenset[str]) -> None:
    ex, volatile = ctx.exchange, ctx.scenario.volatile_fields

    async def send(world, checks=()):
        return await ex.send(world[1].clients[p.name], p, probe, PHASE, record=False, checks=list(checks))

    query = next((q.name for q in ctx.spec_queries or ctx.queries if q.endpoint == (op.method, probe.path)), "")
    token = QUERY.set(query)  # a report endpoint's finding belongs to the report it ran
    try:
        base = await send(worlds.base, [check_foreign_rows])
        twin = await send(worlds.twin)
        # A write goes to the calibrating world in any case (it must see the same requests as the base);
        # a read only when the base and the twin differ (``depth``; before, always): with nothing to
        # mask, the verdict is already in.
        again = None if op.safe and ctx.profile.depth else await send(worlds.calibration)
        if base is None or twin is None or ni.identical(base, twin):
            return
        a, b = ni.answer(base), ni.answer(twin)
        if not ni.differences(a, b, ni.calibrate(a, a, volatile)):
            return
        again = again or await send(worlds.calibration)
        if again is None:
            return
        mask = ni.calibrate(a, ni.answer(again), volatile)
        diffs = ni.differences(a, b, mask)
        if diffs:
            body = probe.body if op.has_body else None
            report(ctx, op.label, p, outside, diffs, Request(op.method, probe.url(), dict(probe.headers), body),
                     base.status_code, mask)
    finally:
        QUERY.reset(token)


def _compare_query(ctx, query, params, p: Principal, worlds: Worlds, outside: frozenset[str]) -> None:
    run, volatile = ctx.scenario.run_query, ctx.scenario.volatile_fields
    dump = lambda rows: json.dumps(rows, default=str, sort_keys=True)  # noqa: E731
    try:
        base = dump(run(worlds.base[0], query, params, p))
        twin = dump(run(worlds.twin[0], query, params, p))
        again = None if ctx.profile.depth else dump(run(worlds.calibration[0], query, params, p))  # as before
        if base == twin:
            return
        a, b = ni.flatten(json.loads(base)), ni.flatten(json.loads(twin))
        if not ni.differences(a, b, ni.calibrate(a, a, volatile)):
            return
        again = again or dump(run(worlds.calibration[0], query, params, p))
        mask = ni.calibrate(a, ni.flatten(json.loads(again)), volatile)
    except Exception:  # parameters the query rejects: not this oracle's business
        return
    diffs = ni.differences(a, b, mask)
    if diffs:
        report(ctx, f"query {query.name}", p, outside, diffs, Request("QUERY", query.name, {}, params), None, mask)


def report(ctx, label, p, outside, diffs, request, status, mask,
           twin: str = "the twin whose tenants outside V(P) ({victims}) were perturbed") -> None:
    """One finding for a differing status (the rest follows from it), else one for the body's first
    differing path and one per differing header (an ``X-Total-Count`` is its own bug). Values are
    shown as excerpts around where they first differ (a whole CSV export is no evidence)."""
    ex = ctx.exchange
    victims = ex.victim_label(outside)
    if diffs[0][0] == "$status":
        shown = diffs[:1]
    else:
        body = [d for d in diffs if not d[0].startswith(ni.HEADER)]
        shown = body[:1] + [d for d in diffs if d[0].startswith(ni.HEADER)]
    for path, base_value, twin_value in shown:
        base_shown, twin_shown = ni.clip_pair(base_value, twin_value)
        evidence = (f"{_where(path)}: {base_shown} in the base world, {twin_shown} in "
                    f"{twin.format(victims=victims)} ({len(diffs)} differing value(s); {len(mask)} "
                    f"path(s) masked by calibration)")
        ex.finding("non-interference", "non-interference", PHASE, label, p, victims, evidence, request, status,
                   f"ni:{ni.locus(path)}")


def _where(path: str) -> str:
    if path == "$status":
        return "status"
    if path.startswith(ni.HEADER):
        return "header " + path[len(ni.HEADER):]
    return path


# -- the worlds ------------------------------------------------------------------------------------------
def _clone_one(ctx, suffix: str, keep: frozenset[str] | None = None) -> tuple[str, dict]:
    """A fresh clone of the template, perturbed outside ``keep`` if given (runs in a thread)."""
    name = f"{ctx.tag}_{suffix}"
    ctx.server.create_database(name, template=ctx.template_db)
    ctx.created.append(name)
    if keep is None:
        return name, {}
    return name, perturb(ctx.server.dsn(name), ctx.world.tenant_columns, keep, ctx.opt.seed)


def _clone(ctx, i: int, keep: frozenset[str]) -> tuple[list[str], dict]:
    """Group ``i``'s databases: its twin, and (with ``depth``) its base and calibrating base."""
    twin, touched = _clone_one(ctx, f"ni{i}_twin", keep)
    names = [twin]
    if ctx.profile.depth:
        names += [_clone_one(ctx, f"ni{i}_base")[0], _clone_one(ctx, f"ni{i}_again")[0]]
    return names, touched


@contextlib.asynccontextmanager
async def _worlds(ctx, names: list[str], principals: list[Principal], shared):
    """A group's worlds, dropped when it is done (at most three apps are up at a time)."""
    made = []
    try:
        for name in names:
            made.append(await _serve(ctx, name, principals))
        twin, base, calibration = (made + [shared, shared])[:3]
        yield Worlds(base, twin, calibration)
    finally:
        for world in reversed(made):
            await _close(ctx, world)
        for name in names[len(made):]:
            _drop(ctx, name)


async def _serve(ctx, name: str, principals: list[Principal]) -> tuple[Database, Target]:
    """The app on database ``name``, ``principals`` logged in."""
    db: Database = ctx.database(name)
    target = Target(ctx.scenario, app=ctx.scenario.create_app(db))
    if ctx.target is not None:  # the spec's servers path, as the run's own target uses it
        target.api_base = ctx.target.api_base
        target.anonymous.base_url = target.api_base
    await target.start()
    try:
        for p in principals:
            await target.login(p)
    except BaseException:
        await target.close()
        _drop(ctx, name)
        raise
    return db, target


async def _close(ctx, world: tuple[Database, Target]) -> None:
    db, target = world
    try:
        await target.close()
    finally:
        _drop(ctx, db.name)


def _drop(ctx, name: str) -> None:
    with contextlib.suppress(Exception):
        ctx.server.drop_database(name)
        ctx.created.remove(name)
