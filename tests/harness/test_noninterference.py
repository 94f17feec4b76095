"""Non-interference on apps that are not Phoenix: deterministic twins, V(P) twins, headers, statuses.

The twins are checked on real PostgreSQL against two schemas of other shapes (the count app here and
the CRM of ``tests/shapes``: serial integer keys, composite-key memberships, unique e-mails); the oracle
end to end on the count app (:mod:`tests.harness.countapp`), whose every leak is a number, a header or
a status that moves with other tenants' data.
"""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from harness import profiles
from harness.campaign import Campaign, Options
from harness.phases import noninterference as phase
from harness.twins import perturb
from harness.world import advance_sequences, write_tables
from tests.harness.countapp import LEAKS, CountScenario
from tests.shapes import crm_world

SEED = 3


def scan(pg_server, leaks=(), **options) -> dict:
    return Campaign(CountScenario(leaks), Options(seed=SEED, db_url=pg_server.admin_dsn, **options)).run()


def ni(doc) -> dict[str, dict]:
    return {f["id"]: f for f in doc["findings"] if f["kind"] == "non-interference"}


# -- the twins -----------------------------------------------------------------------------------------
def _snapshot(dsn: str, tenant_columns: dict) -> dict:
    with psycopg.connect(dsn) as conn:
        out = {}
        for table, column in tenant_columns.items():
            rows = conn.execute(f"SELECT {column}::text AS t, x::text FROM {table} x ORDER BY 2").fetchall()
            out[table] = rows
        out["sequences"] = conn.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1").fetchall()
    return out


def _twins(pg_server, name, install, tables, tenant_columns, keep, seed=1):
    """The template's snapshot and two twins' snapshots, perturbed alike."""
    tpl = pg_server.create_database(f"{name}_tpl")
    install(tpl)
    with psycopg.connect(tpl) as conn:
        write_tables(conn, tables)
        advance_sequences(conn)
    snaps, touched = [], None
    try:
        for i in range(2):
            clone = pg_server.create_database(f"{name}_{i}", template=f"{name}_tpl")
            touched = perturb(clone, tenant_columns, keep, seed)
            snaps.append(_snapshot(clone, {t: c for t, c in tenant_columns.items() if c}))
        return _snapshot(tpl, {t: c for t, c in tenant_columns.items() if c}), snaps, touched
    finally:
        for n in (f"{name}_0", f"{name}_1", f"{name}_tpl"):
            pg_server.drop_database(n)


def _counts(rows) -> dict[str, int]:
    out: dict[str, int] = {}
    for tenant, _ in rows:
        out[tenant] = out.get(tenant, 0) + 1
    return out


@pytest.mark.parametrize("shape", ["count", "crm"])
def test_twin_moves_every_foreign_count_and_nothing_kept_deterministically(pg_server, shape):
    if shape == "count":
        scenario = CountScenario()
        world = scenario.generate_world(SEED)
        tables, columns, install, keep = world.tables, world.tenant_columns, scenario.install, frozenset({"1"})
    else:  # workspaces by slug, serial ids, memberships keyed (workspace_id, user_id), unique e-mails
        tables, columns, install, keep = crm_world.generate_world(1), crm_world.TENANT_COLUMNS, crm_world.install, \
            frozenset({"1", "2"})
    base, (twin, again), touched = _twins(pg_server, f"nitw_{shape}", install, tables, columns, keep)
    assert twin == again, "the same seed must give the same twin, row for row"
    assert twin["sequences"] == base["sequences"], "the app's next serial id must be the same in both worlds"
    registry = {t for t, c in columns.items() if c == "id"}
    for table in (t for t, c in columns.items() if c):
        before, after = _counts(base[table]), _counts(twin[table])
        kept = {r for r in base[table] if r[0] in keep}
        assert kept == {r for r in twin[table] if r[0] in keep}, f"{table}: a kept tenant's rows changed"
        for tenant, n in before.items():
            if tenant in keep or table in registry:
                continue
            copies = touched[table]["added"] > 0
            assert after.get(tenant, 0) == (2 * n if copies else n - 1), (table, tenant, n, after.get(tenant))
    if shape == "crm":  # a membership is never invented: keys and foreign keys are copied, never shifted
        pairs = lambda rows: {r[1] for r in rows}  # noqa: E731
        assert pairs(twin["memberships"]) < pairs(base["memberships"])
        assert touched["memberships"] == {"added": 0, "removed": 1, "shifted": 0}
        assert touched["accounts"] == {"added": 4 + 1, "removed": 1, "shifted": 2 * 4}  # 4 rows become 8


def test_twins_are_keyed_by_what_each_principal_sees_not_by_client(pg_server):
    scenario = CountScenario()

    class Ctx:  # what groups() reads
        profile = profiles.get_profile("pr")
        world = scenario.generate_world(SEED)
        tenants = scenario.tenants(world)
        principals = scenario.principals(world)
        slugs = {t.id: t.slug for t in tenants}

    grouped = {",".join(sorted(Ctx.slugs[t] for t in keep)): [p.name for p in ps] for keep, ps in phase.groups(Ctx)}
    assert grouped == {"alder": ["ann:member"], "alder,birch": ["bob:member"], "birch": ["dan:member"],
                       "cedar": ["cat:member"]}


# -- the oracle, end to end --------------------------------------------------------------------------------
def test_clean_count_app_gives_nothing_and_full_coverage(pg_server):
    doc = scan(pg_server)
    assert doc["findings"] == [], [f["title"] + ": " + f["evidence"] for f in doc["findings"]]
    assert doc["summary"]["ok"] and doc["summary"]["problems"] == []
    assert {r["status"] for r in doc["coverage"]} == {"covered"}
    assert set(doc["run"]["twins"]) == {"alder", "alder,birch", "birch", "cedar"}


EXPECTED = {  # leak -> (operation, locus of its finding)
    "total-header": ("GET /items", "ni:header:x-total-count"),
    "last-modified": ("GET /items", "ni:header:last-modified"),
    "few-rows-count": ("GET /items/summary", "ni:count"),
    "quota": ("POST /items", "ni:status"),
}


@pytest.mark.parametrize("leak", LEAKS)
def test_each_leak_is_found_by_non_interference_alone(pg_server, leak):
    doc = scan(pg_server, [leak], phases=("noninterference",))
    found = {(f["operation"], f["locus"]) for f in ni(doc).values()}
    assert found == {EXPECTED[leak]}, found
    scenario = CountScenario()
    world = scenario.generate_world(SEED)
    slug = {t.id: t.slug for t in scenario.tenants(world)}
    sees = {p.name: {slug[t] for t in p.visible} for p in scenario.principals(world)}
    for f in ni(doc).values():
        assert "in the base world" in f["evidence"] and "in the twin" in f["evidence"]
        assert not set(f["victim_tenant"].split(", ")) & sees[f["principal"]], f


def test_same_seed_same_findings_ids_and_evidence(pg_server):
    first, second = (ni(scan(pg_server, LEAKS, phases=("noninterference",))) for _ in range(2))
    assert set(first) == set(second) and len(first) == len(EXPECTED)
    assert {i: f["evidence"] for i, f in first.items()} == {i: f["evidence"] for i, f in second.items()}


def test_client_twins_would_perturb_what_a_two_workspace_user_sees(pg_server, monkeypatch):
    """Before: one twin per client. Bob sees alder and birch, two clients: birch was perturbed under him."""
    monkeypatch.setitem(profiles.PROFILES, "pr", dataclasses.replace(profiles.PROFILES["pr"], depth=False))
    doc = scan(pg_server, phases=("noninterference",))
    assert {f["principal"] for f in ni(doc).values()} == {"bob:member"}
