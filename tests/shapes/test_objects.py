"""The world as objects with owners: parameters named by any column, the tenant in the path, keys of any
type, objects learned from the API. Fast: the CRM's spec and world, no database."""

import asyncio
import random
from dataclasses import dataclass

import httpx
import pytest

from harness.coverage import Coverage
from harness.exchange import Exchange, Observation, learn
from harness.findings import Request
from harness.fuzz.operations import Template, load_operations
from harness.fuzz.probes import Probe, ProbeBuilder
from harness.fuzz.resources import Ref, ResourceIds
from harness.markers import OwnershipIndex
from phoenix.app import create_app as phoenix_app
from scenarios.phoenix import PhoenixScenario
from tests.shapes.crm_app import create_app
from tests.shapes.crm_scenario import CrmScenario

SEED = 4


@dataclass
class Crm:
    scenario: CrmScenario
    world: object
    ids: ResourceIds
    ops: dict
    principals: dict
    tenants: list
    slug: dict  # tenant id -> slug

    def builder(self, seed: int = 1) -> ProbeBuilder:
        return ProbeBuilder(self.ids, self.tenants, self.scenario, random.Random(seed))

    def rows(self, table, tenant):
        return [r for r in self.world.tables[table] if str(r["workspace_id"]) == tenant]


@pytest.fixture(scope="module")
def crm() -> Crm:
    scenario = CrmScenario()
    world = scenario.generate_world(SEED)
    ids = ResourceIds(world, scenario.resource_aliases)
    principals = {p.name: p for p in scenario.principals(world)}
    ids.reserve(v for p in principals.values() for v in p.credentials.values())
    ops = {op.label: op for op in load_operations(create_app("postgresql://unused").openapi(), (),
                                                  scenario.skip_operations)}
    tenants = scenario.tenants(world)
    return Crm(scenario, world, ids, ops, principals, [t.id for t in tenants], {t.id: t.slug for t in tenants})


def template(**path):
    return Template(dict(path), {}, None, {})


def first_with_victim(crm: Crm):
    """A principal and a workspace outside its V(P)."""
    for p in crm.principals.values():
        outside = [t for t in crm.tenants if t not in p.visible]
        if outside:
            return p, outside[0]
    raise AssertionError("no principal with a foreign workspace")


def test_a_path_parameter_names_any_column_and_the_tenant_in_the_path_is_the_principals_home(crm):
    op = crm.ops["GET /w/{ws}/accounts/by-number/{number}"]
    for p in crm.principals.values():
        probe = crm.builder().own(op, template(ws="x", number="y"), p)
        assert probe.path_params["ws"] == crm.slug[p.tenant]
        assert probe.path_params["number"] in {a["number"] for a in crm.rows("accounts", p.tenant)}


def test_own_objects_come_from_the_tenant_in_the_path_with_their_type(crm):
    op = crm.ops["POST /w/{ws}/contacts"]
    p = next(p for p in crm.principals.values() if len(p.visible) > 1)  # a user of two workspaces
    for seed in range(10):
        probe = crm.builder(seed).own(op, Template({"ws": "x"}, {}, {"account_id": 9.0, "email": "a@b.co",
                                                                    "name": "n"}, {}), p)
        account = probe.body["account_id"]
        assert type(account) is int  # an integer key stays an integer
        assert account in {a["id"] for a in crm.rows("accounts", p.tenant)}


def test_nested_path_parameters_stay_consistent_innermost_first():
    """Phoenix: /projects/{project_id}/tasks/{task_id} gets the task's own project (path order, not the
    order the spec lists the parameters in)."""
    scenario = PhoenixScenario(2, 2)
    world = scenario.generate_world(1)
    ids = ResourceIds(world, scenario.resource_aliases)
    spec = phoenix_app("postgresql://x/y", reporting_db_url="postgresql://x/y").openapi()
    op = next(o for o in load_operations(spec, scenario.path_prefixes)
              if o.label == "GET /api/dashboard/projects/{project_id}/tasks/{task_id}")
    p = scenario.principals(world)[0]
    tasks = {str(t["id"]): str(t["project_id"]) for t in world.tables["tasks"]}
    for seed in range(5):
        probe = ProbeBuilder(ids, [t.id for t in scenario.tenants(world)], scenario, random.Random(seed)).own(
            op, Template({"project_id": "x", "task_id": "y"}, {}, None, {}), p)
        assert tasks[probe.path_params["task_id"]] == probe.path_params["project_id"]


def test_foreign_ids_put_the_victims_value_of_that_column_in_each_place(crm):
    p, victim = first_with_victim(crm)
    op = crm.ops["GET /w/{ws}/accounts/by-number/{number}"]
    probes = crm.builder().foreign_ids(op, template(ws="x", number="y"), p, victim)
    where = {probe.notes[0]: probe.path_params for probe in probes}
    assert where["path ws"]["ws"] == crm.slug[victim]
    assert where["path ws"]["number"] in {a["number"] for a in crm.rows("accounts", p.tenant)}
    assert where["path number"]["ws"] == crm.slug[p.tenant]
    assert where["path number"]["number"] == crm.rows("accounts", victim)[0]["number"]
    assert all(probe.foreign_in_path and probe.victim == victim for probe in probes)


def test_a_foreign_value_the_attacker_also_holds_is_never_used(crm):
    """user_id of a membership: a user in the victim's workspace *and* the attacker's proves nothing."""
    ref = crm.ids.aliases["user_id"]
    for p in crm.principals.values():
        for victim in (t for t in crm.tenants if t not in p.visible):
            obj = crm.ids.first_object(ref, victim, avoid=p.visible)
            if obj is not None:
                assert not crm.ids.owners_of(ref, obj.value("user_id")) & p.visible


def test_a_body_column_of_the_operations_own_table_is_its_value_not_a_reference(crm):
    assert crm.ids.ref_for("number", "/w/{ws}/accounts/by-number/{number}") == Ref("accounts", "number")
    assert crm.ids.ref_for("number", "/w/{ws}/accounts", body=True) is None
    assert crm.ids.ref_for("account_id", "/w/{ws}/contacts", body=True) == Ref("accounts", "id")


def test_a_delete_never_names_a_principals_row(crm):
    op = crm.ops["DELETE /w/{ws}/members/{user_id}"]
    logins = {p.credentials["email"] for p in crm.principals.values()}
    principal_users = {u["id"] for u in crm.world.tables["users"] if u["email"] in logins}
    admin = next(p for p in crm.principals.values() if p.role == "admin")
    picked = {crm.builder(seed).own(op, template(ws="x", user_id=1), admin).path_params["user_id"]
              for seed in range(20)}
    assert picked and not picked & principal_users  # only bystanders


def response(status, body, path="/w/x/contacts"):
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://t" + path))


def observe(crm, ids, index, p, probe, resp):
    ex = Exchange(index, ids, Coverage([], [], set()), {}, 1)
    obs = Observation(p, probe, "sweep", Request(probe.operation.method, probe.url()), resp)
    asyncio.run(learn(ex, obs))


def test_integer_ids_created_through_the_api_join_the_pools(crm):
    ids = ResourceIds(crm.world, crm.scenario.resource_aliases)
    index = OwnershipIndex.from_world(crm.world)
    p = next(iter(crm.principals.values()))
    op = crm.ops["POST /w/{ws}/contacts"]
    probe = crm.builder().own(op, Template({"ws": "x"}, {}, {"account_id": 1, "email": "fresh@x.io",
                                                           "name": "Fresh Person"}, {}), p)
    body = {"id": 999, "account_id": probe.body["account_id"], "email": probe.body["email"], "name": "Fresh Person"}
    observe(crm, ids, index, p, probe, response(201, body))
    assert ids.created_by(p.name, "contacts") == 999
    obj = ids.get("contacts", 999)
    assert obj.owners == {p.tenant} and obj.source == "api" and obj.creator == p.name
    assert obj in ids.objects("contacts", {p.tenant})
    # the unique e-mail the request carried names the owner now, whatever the key type
    assert index.owners(probe.body["email"]) == {p.tenant}
    # a principal of another workspace attacking that workspace now carries the new contact
    b, victim = next((b, p.tenant) for b in crm.principals.values() if p.tenant not in b.visible)
    attack = crm.builder().foreign_ids(crm.ops["GET /w/{ws}/contacts/{contact_id}"],
                                       template(ws="x", contact_id=1), b, victim, {"contacts": obj})
    assert any(a.path_params["contact_id"] == 999 for a in attack)
    # listed integer ids become the principal's
    listing = Probe(crm.ops["GET /w/{ws}/contacts"], {"ws": crm.slug[p.tenant]}, {}, {}, None)
    observe(crm, ids, index, p, listing, response(200, [{"id": 3, "account_id": 1, "email": "e", "name": "n"}]))
    assert [o.key for o in ids.seen_by(p.name, "contacts")] == [3]
    # and a deleted one is gone, in the tenant the path names
    delete = Probe(crm.ops["DELETE /w/{ws}/contacts/{contact_id}"], {"ws": crm.slug[p.tenant], "contact_id": "999"},
                   {}, {}, None)
    observe(crm, ids, index, p, delete, httpx.Response(204, request=httpx.Request("DELETE", "http://t/")))
    assert ids.created_by(p.name, "contacts") is None and ids.get("contacts", 999).gone


def test_add_object_registers_what_the_api_made(crm):
    ids = ResourceIds(crm.world, crm.scenario.resource_aliases)
    tenant = crm.tenants[0]
    obj = ids.add_object("deals", tenant, {"id": 77, "title": "canary-x1", "account_id": 1}, creator="someone")
    assert ids.get("deals", "77") is obj and obj.key == 77 and obj.source == "api"
    assert ids.created_in("deals", tenant) == [obj]
    assert ids.add_object("deals", tenant, {"id": 77}) is obj  # the same key is the same object
    slug = ids.add_object("boards", {tenant}, {"slug": "roadmap"}, key="roadmap", source="api")
    assert slug.key == "roadmap" and ids.get("boards", "roadmap") is slug
    with pytest.raises(ValueError):
        ids.add_object("deals", tenant, {"id": 78}, source="guess")


def test_the_request_tenant_is_the_one_the_path_names(crm):
    ids = crm.ids
    for tenant, slug in crm.slug.items():
        assert ids.request_tenant("/w/{ws}/contacts", {"ws": slug}) == tenant
    assert ids.request_tenant("/w/{ws}/contacts", {"ws": "no-such-workspace"}) is None
    assert ids.is_tenant_table("workspaces") and not ids.is_tenant_table("accounts")
    assert ids.innermost_ref("/w/{ws}/members/{user_id}") == ("user_id", Ref("memberships", "user_id"))
