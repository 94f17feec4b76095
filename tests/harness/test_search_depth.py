"""Search depth on a small app that is not Phoenix: each class of leak one step beyond a plain sweep is
found (filter value, later page, report enum branch, 403-vs-404, 409 on another tenant's value, a
foreign reference accepted), the clean app gives nothing with full coverage, and ``depth=False`` is
the sweep as it was (none of them found)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from harness import profiles
from harness.campaign import Campaign, Options
from harness.fuzz import pagination
from harness.fuzz.operations import load_operations, systematic
from harness.fuzz.probes import Probe
from harness.oracles import existence
from harness.queries import every_value
from harness.scenario import Query, QueryParam

from tests.harness.depthapp import LEAKS, DepthScenario, create_app

SEED = 3


def scan(pg_server, leaks=(), **options) -> dict:
    return Campaign(DepthScenario(leaks), Options(seed=SEED, db_url=pg_server.admin_dsn, **options)).run()


def slugs_visible(principal: str) -> set[str]:
    return {principal.split(":")[0]}


def test_clean_app_gives_nothing_and_full_coverage_with_depth(pg_server):
    assert profiles.get_profile("pr").depth
    doc = scan(pg_server)
    assert doc["findings"] == [], [f["title"] for f in doc["findings"]]
    assert {r["status"] for r in doc["coverage"]} == {"covered"} and len(doc["coverage"]) == 6 * 3
    assert doc["summary"]["ok"]


EXPECTED = {
    "filter-branch": ("foreign-row", "GET /tickets", "sweep", lambda f: "channel=phone" in f["request"]["url"]),
    "later-page": ("foreign-row", "GET /tickets", "sweep",
                   lambda f: "offset=" in f["request"]["url"] and "offset=0" not in f["request"]["url"]),
    "report-branch": ("foreign-row", None, "reports",
                      lambda f: (f["request"]["body"] or {}).get("group") == "assignee"),
    "existence-status": ("existence", "GET /tickets/{ticket_id}", "sweep",
                         lambda f: f["locus"] == "path:ticket_id" and "403" in f["evidence"] and "404" in f["evidence"]),
    "unique-across-tenants": ("existence", "POST /tickets", "sweep",
                              lambda f: f["locus"] == "body:code" and f["status"] == 409),
    "foreign-reference": ("cross-reference", "PATCH /tickets/{ticket_id}", "sweep",
                          lambda f: f["locus"] == "fk:tickets.assignee_id" and "agents row" in f["evidence"]),
}


@pytest.mark.parametrize("leak", LEAKS)
def test_each_class_is_found_deterministically(pg_server, leak):
    kind, operation, phase, detail = EXPECTED[leak]
    doc = scan(pg_server, [leak], phases=("sweep", "reports"))
    hits = [f for f in doc["findings"] if f["kind"] == kind and f["phase"] == phase
            and (operation is None or f["operation"] == operation) and detail(f)]
    assert hits, [(f["kind"], f["operation"], f["locus"], f["request"]["url"]) for f in doc["findings"]]
    for f in doc["findings"]:  # every finding blames a tenant its principal may not see
        assert not set(f["victim_tenant"].split(", ")) & slugs_visible(f["principal"]), f
    assert not doc["summary"]["ok"]


def test_without_depth_the_sweep_finds_none_of_them(pg_server, monkeypatch):
    """The bench baseline: ``depth=False`` sends what the sweep sent before, and these leaks sit beyond it."""
    monkeypatch.setitem(profiles.PROFILES, "pr", dataclasses.replace(profiles.PROFILES["pr"], depth=False))
    shallow = scan(pg_server, LEAKS, phases=("sweep",))
    assert shallow["findings"] == [], [(f["kind"], f["operation"]) for f in shallow["findings"]]
    monkeypatch.undo()
    deep = scan(pg_server, LEAKS, phases=("sweep",))
    assert {f["kind"] for f in deep["findings"]} == {"foreign-row", "existence", "cross-reference"}
    assert deep["run"]["requests"] > shallow["run"]["requests"]


# -- the pieces, without a database ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def operations():
    app = create_app("postgresql://unused@127.0.0.1:1/unused", {})
    return {op.label: op for op in load_operations(app.openapi(), (), ("POST /login",))}


def test_systematic_values_come_from_schemathesis_coverage(operations):
    plan = systematic(operations["GET /tickets"])
    notes = {v.note for v in plan.variants}
    assert {"query channel=email (enum)", "query channel=chat (enum)", "query channel=phone (enum)"} <= notes
    assert {"query limit=1 (minimum)", "query limit=50 (maximum)"} <= notes
    assert plan.bounds["limit"] == ("1", "50")
    body = systematic(operations["POST /tickets"])
    assert {v.value for v in body.variants if v.name == "channel"} == {"email", "chat", "phone"}
    assert {"subject", "code", "channel", "assignee_id"} <= set(body.properties)


def _response(body, headers=None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers or {})


def test_next_page_follows_link_cursor_and_offset(operations):
    op = operations["GET /tickets"]
    first = pagination.first_page(Probe(op, {}, {"offset": 7, "channel": "chat"}, {}, None), {"limit": ("1", "50")})
    assert first.query == {"channel": "chat", "limit": 2}
    link = pagination.next_page(first, _response({"items": [{}, {}]}, {"Link": '</tickets?limit=2&offset=2>; rel="next"'}))
    assert link.query == {"limit": "2", "offset": "2"}
    moved = pagination.next_page(first, _response({"items": [{}, {}]}))
    assert moved.query["offset"] == 2
    assert pagination.next_page(first, _response({"items": [{}]})) is None  # a short page is the last
    assert pagination.next_page(first, _response({"items": []})) is None
    cursored = dataclasses.replace(op, query_params=("limit", "cursor"))
    probe = Probe(cursored, {}, {"limit": 2}, {}, None)
    assert pagination.next_page(probe, _response({"items": [{}], "next_cursor": "c2"})).query == {"limit": 2, "cursor": "c2"}
    assert pagination.next_page(probe, _response({"items": [{}, {}], "next_cursor": None})) is None


def test_existence_compares_shapes_not_values():
    a = httpx.Response(404, json={"detail": "ticket 1 not found"})
    b = httpx.Response(404, json={"detail": "no such ticket"})
    c = httpx.Response(403, json={"detail": "ticket 1 not found"})
    d = httpx.Response(404, json={"detail": {"code": 1}})
    assert existence.shape(a) == existence.shape(b) != existence.shape(c)
    assert existence.shape(a) != existence.shape(d)


def test_values_that_exist_nowhere_keep_their_type_and_shape():
    import random
    import uuid

    rng = random.Random(1)
    assert existence.absent_like(41, [7, 41], rng) > 41 and isinstance(existence.absent_like(41, [41], rng), int)
    assert existence.absent_like("41", ["41", "99"], rng) == str(99 + 1_000_003)
    assert uuid.UUID(existence.absent_like(str(uuid.uuid4()), [], rng))
    fresh = existence.fresh_like("TK-104", rng, {"TK-104"})
    assert fresh != "TK-104" and fresh[:2].isupper() and fresh[2] == "-" and fresh[3:].isdigit()


def test_every_report_enum_value_once_with_the_defaults_for_the_rest():
    query = Query("q", (QueryParam("group", "enum", default="a", choices=("a", "b", "c")),
                        QueryParam("flag", "bool", default=False), QueryParam("n", "int", default=5)), ("user",))
    assert every_value(query) == [{"group": "b", "flag": False, "n": 5}, {"group": "c", "flag": False, "n": 5},
                                  {"group": "a", "flag": True, "n": 5}]


def test_cross_reference_oracle_reads_foreign_keys_from_the_catalogue(pg_server):
    """A written row pointing into another tenant is a crossing; into its own group's row it is not; a
    foreign key the seeded world already crosses (a "shared with" table) is left out."""
    import asyncio

    import psycopg

    from harness.oracles.references import References
    from harness.world import World

    name = "depth_refs"
    admin = pg_server.create_database(name)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("""
                CREATE TABLE orgs (id int PRIMARY KEY);
                CREATE TABLE tenants (id int PRIMARY KEY, org_id int REFERENCES orgs(id));
                CREATE TABLE folders (id int PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants(id));
                CREATE TABLE docs (id int PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants(id),
                                   folder_id int REFERENCES folders(id), org_id int REFERENCES orgs(id));
                CREATE TABLE shares (id int PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants(id),
                                     doc_id int REFERENCES docs(id));
                INSERT INTO orgs VALUES (1), (2);
                INSERT INTO tenants VALUES (10, 1), (11, 1), (20, 2);
                INSERT INTO folders VALUES (100, 10), (200, 20);
                INSERT INTO docs VALUES (1000, 10, 100, 1), (2000, 20, 200, 2);
                INSERT INTO shares VALUES (1, 20, 1000);  -- the world shares a doc across tenants
            """)
        world = World(1, {}, {"orgs": None, "tenants": "id", "folders": "tenant_id", "docs": "tenant_id",
                              "shares": "tenant_id"}, group_owners={"orgs": ("id", {"1": ("10", "11"), "2": ("20",)})})

        async def check():
            async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
                refs = await References(conn, world).start()
                assert refs.skipped == ["shares.doc_id -> docs"]
                await conn.execute("UPDATE docs SET folder_id = 200 WHERE id = 1000")  # into tenant 20
                await conn.execute("INSERT INTO docs VALUES (1001, 11, NULL, 1), (1002, 11, NULL, 2)")
                crossed = await refs.crossings("docs", ["1000", "1001", "1002"])
                return sorted((c.row, c.fk.parent, c.tenant, tuple(sorted(c.owners)), c.parent_row) for c in crossed)

        assert asyncio.run(check()) == [("1000", "folders", "10", ("20",), "200"), ("1002", "orgs", "11", ("20",), "2")]
    finally:
        pg_server.drop_database(name)
