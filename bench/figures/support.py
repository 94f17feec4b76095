"""Plumbing shared by the figures: the run context, timing, the result record, and the target.

Every figure is a ratio against a baseline measured in the same process, on the same machine and
the same database server, so that the ratio means something even where the absolute numbers do not.
Databases are clones of one seeded template, so the two sides of a comparison start from the same rows.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx
import psycopg

from harness.coverage import Coverage
from harness.db import DatabaseServer
from harness.exchange import Exchange
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles.write_isolation import ChangeLog
from harness.scenario import Database, Principal, Scenario
from harness.target import Target
from harness.world import World
from harness.world import seed_template as world_template

_names = itertools.count()


@dataclass
class Context:
    server: DatabaseServer
    quick: bool = False
    seed: int = 1

    @property
    def scan_phases(self) -> tuple[str, ...] | None:
        """Phases of the whole-scan figures: all of the profile's, or only the sweep in ``--quick`` (the
        smoke test checks that each figure runs and what it reports, not how long a full scan takes)."""
        return ("sweep",) if self.quick else None


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def clock() -> float:
    return time.perf_counter()


def db_name(label: str) -> str:
    return f"bench{os.getpid()}_{label}_{next(_names)}"


def measure(value: float, unit: str, label: str) -> dict:
    return {"value": round(value, 4), "unit": unit, "label": label}


def result(number: int, name: str, title: str, measured: dict, baseline: dict, ratio: float,
           ratio_means: str, goal: str | None = None, goal_met: bool | None = None, **details) -> dict:
    """The record every figure returns (and ``bench.json`` stores), whatever it measured."""
    return {"figure": number, "name": name, "title": title, "measured": measured, "baseline": baseline,
            "ratio": round(ratio, 4), "ratio_means": ratio_means, "goal": goal, "goal_met": goal_met,
            "details": details}


# -- databases ------------------------------------------------------------------------------------------
def seed_template(server: DatabaseServer, scenario: Scenario, world: World) -> str:
    """Install the scenario into a new database and COPY the world in; returns its name."""
    name = db_name("tpl")
    world_template(server, scenario, world, name)
    return name


def database(server: DatabaseServer, name: str) -> Database:
    return Database(name, server.dsn(name), lambda user=None, password=None: server.dsn(name, user, password))


@contextlib.asynccontextmanager
async def serving(server: DatabaseServer, scenario: Scenario, template: str,
                  principals: Sequence[Principal]) -> AsyncIterator[tuple[Target, Database]]:
    """A fresh clone of ``template``, the app on it (lifespan entered), ``principals`` logged in."""
    name = db_name("run")
    server.create_database(name, template=template)
    db = database(server, name)
    try:
        app = scenario.create_app(db)
        lifespan = getattr(getattr(app, "router", None), "lifespan_context", None)
        life = lifespan(app) if lifespan else contextlib.nullcontext()
        await life.__aenter__()
        target = Target(scenario, app=app)
        try:
            for p in principals:
                await target.login(p)
            yield target, db
        finally:
            await target.close()
            # Exit cleanly even on error: an app whose shutdown is skipped leaves pool tasks that hang the loop.
            await life.__aexit__(None, None, None)
    finally:
        server.drop_database(name)


@contextlib.asynccontextmanager
async def harness_exchange(world: World, scenario: Scenario, db: Database, principals: Sequence[Principal],
                           operations: Sequence[str], seed: int) -> AsyncIterator[Exchange]:
    """The harness's per-request path as an in-process campaign sets it up: index, coverage and the
    audit-trigger change log (installed on this clone, so its cost in the app's writes counts too)."""
    tenants = scenario.tenants(world)
    coverage = Coverage(list(operations), [p.name for p in principals], set())
    async with await psycopg.AsyncConnection.connect(db.admin_dsn, autocommit=True) as conn:
        digests = ChangeLog(conn, world.tenant_columns)
        await digests.start()
        yield Exchange(OwnershipIndex.from_world(world), ResourceIds(world, scenario.resource_aliases), coverage,
                       {t.id: t.slug for t in tenants}, seed, digests)


async def send_plain(client, probe) -> int:
    """What a plain client does with a probe: one request, the body read, no oracle. Returns the status."""
    op = probe.operation
    try:
        response = await client.request(op.method, probe.path, params=probe.query, headers=probe.headers,
                                        json=probe.body if op.has_body else None)
    except httpx.HTTPError:
        return 0
    response.text  # noqa: B018 - decode it, as the harness does
    return response.status_code


def pick_principal(principals: Sequence[Principal], name: str) -> Principal:
    return next((p for p in principals if p.name == name), None) or \
        next((p for p in principals if p.role == "admin"), principals[0])
