"""Values the harness writes are unique per principal and request; values the spec cannot give come from
the scenario. Fast: schemas and the CRM's world, no database."""

import random
import re

import pytest

from harness.fuzz import unique
from harness.fuzz.fill import Filler, supplied, supplied_choices
from harness.fuzz.operations import Template, load_operations
from harness.fuzz.probes import ProbeBuilder
from harness.fuzz.resources import ResourceIds
from tests.shapes.crm_app import create_app
from tests.shapes.crm_scenario import CrmScenario

EMAIL = {"type": "string", "maxLength": 254, "minLength": 3, "pattern": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"}
CODE = {"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]*$", "maxLength": 12}


# -- unique values ---------------------------------------------------------------------------------
def test_the_suffix_respects_the_schema():
    tok = unique.token("acme:admin", 1)
    assert unique.with_suffix("ann", {"type": "string"}, tok) == f"ann-{tok}"
    email = unique.with_suffix("a@b.io", EMAIL, tok)
    assert email == f"a.{tok}@b.io" and re.search(EMAIL["pattern"], email)  # in the local part
    code = unique.with_suffix("PRJ-1", CODE, tok)
    assert re.search(CODE["pattern"], code) and code.startswith("PRJ-1") and len(code) <= 12
    assert len(unique.with_suffix("x" * 40, {"type": "string", "maxLength": 40}, tok)) == 40  # trimmed to fit
    assert unique.with_suffix("12", {"type": "string", "pattern": "^[0-9]+$"}, tok).isdigit()
    assert unique.with_suffix("abc", {"type": "string", "pattern": "^abc$"}, tok) is None  # no room: unchanged


@pytest.mark.parametrize("schema", [
    {"type": "string", "enum": ["a", "b"]}, {"const": "x", "type": "string"},
    {"type": "string", "format": "date"}, {"type": "string", "format": "uuid"}, {"type": "integer"},
    {"anyOf": [{"type": "number"}, {"type": "string"}]},  # a decimal sent as text is not text
])
def test_fields_that_cannot_take_a_suffix_are_left_alone(schema):
    assert unique.suffixable(schema) is None


def test_nullable_text_and_email_format_take_it():
    assert unique.suffixable({"anyOf": [{"type": "string"}, {"type": "null"}]}) is not None
    assert unique.suffixable({"type": "string", "format": "email"}) is not None


def test_tokens_differ_per_principal_and_request():
    tokens = {unique.token(p, n) for p in ("a:admin", "a:user", "b:admin") for n in range(1, 30)}
    assert len(tokens) == 3 * 29


@pytest.fixture(scope="module")
def crm():
    scenario = CrmScenario()
    world = scenario.generate_world(2)
    ids = ResourceIds(world, scenario.resource_aliases)
    principals = list(scenario.principals(world))
    ids.reserve(v for p in principals for v in p.credentials.values())
    ops = {op.label: op for op in load_operations(create_app("postgresql://unused").openapi(), (),
                                                  scenario.skip_operations)}
    return scenario, world, ids, principals, ops


def builder(crm, seed=1):
    scenario, world, ids, _, _ = crm
    return ProbeBuilder(ids, [str(w["id"]) for w in world.tables["workspaces"]], scenario, random.Random(seed))


def test_one_generated_body_becomes_a_different_one_per_principal(crm):
    _, _, _, principals, ops = crm
    op = ops["POST /w/{ws}/contacts"]
    tpl = Template({"ws": "x"}, {}, {"account_id": 1, "email": "0@0.AA", "name": "0"}, {})
    bodies = [builder(crm).own(op, tpl, p).body for p in principals]
    assert len({b["email"] for b in bodies}) == len(principals)  # the database-wide unique e-mail
    assert all(re.search(EMAIL["pattern"], b["email"]) for b in bodies)
    again = builder(crm).own(op, tpl, principals[0]).body
    assert again["email"] not in {b["email"] for b in bodies}  # the same principal's next request too
    probe = builder(crm).own(op, tpl, principals[0])
    assert probe.token and probe.token in probe.body["email"]
    # ids and the scenario's values are never suffixed; a safe request is never touched
    assert all(isinstance(b["account_id"], int) for b in bodies)
    listing = builder(crm).own(ops["GET /w/{ws}/contacts"], Template({"ws": "x"}, {"q": "0"}, None, {}), principals[0])
    assert listing.query["q"] == "0" and listing.token is None


def test_a_scenario_can_switch_unique_values_off(crm):
    scenario, world, ids, principals, ops = crm

    class Plain(CrmScenario):
        unique_values = False

    b = ProbeBuilder(ids, [], Plain(), random.Random(1))
    body = b.own(ops["POST /w/{ws}/contacts"], Template({"ws": "x"}, {}, {"account_id": 1, "email": "0@0.AA",
                                                                           "name": "0"}, {}), principals[0]).body
    assert body["email"] == "0@0.AA"


# -- the scenario's values -------------------------------------------------------------------------
def test_values_by_name_per_operation_and_from_a_column(crm):
    scenario, world, ids, principals, ops = crm
    assert supplied(scenario, ops["GET /w/{ws}/accounts"], "currency") == "accounts.currency"
    assert supplied(scenario, ops["POST /w/{ws}/members"], "email") == "users.email"
    assert supplied(scenario, ops["GET /w/{ws}/contacts"], "email") is None  # scoped to one operation
    p = principals[0]
    own = {a["currency"] for a in world.tables["accounts"] if str(a["workspace_id"]) == p.tenant}
    assert set(supplied_choices(ids, "accounts.currency", {p.tenant})) == own
    assert supplied_choices(ids, ["EUR", "CHF"], {p.tenant}) == ["EUR", "CHF"]


def test_a_principals_login_is_never_supplied(crm):
    _, world, ids, principals, _ = crm
    logins = {p.credentials["email"] for p in principals}
    emails = supplied_choices(ids, "users.email", {principals[0].tenant})
    bystanders = {u["email"] for u in world.tables["users"]} - logins
    assert set(emails) == bystanders and bystanders


def test_supplied_values_reach_query_and_body(crm):
    scenario, world, ids, principals, ops = crm
    p = next(p for p in principals if p.role == "admin")
    own = {a["currency"] for a in world.tables["accounts"] if str(a["workspace_id"]) == p.tenant}
    create = builder(crm).own(ops["POST /w/{ws}/accounts"],
                              Template({"ws": "x"}, {}, {"number": "AAA", "name": "n", "currency": "AAA"}, {}), p)
    assert create.body["currency"] in own  # a real code: the app checks it
    member = builder(crm).own(ops["POST /w/{ws}/members"], Template({"ws": "x"}, {}, {"email": "x"}, {}), p)
    assert member.body["email"] in supplied_choices(ids, "users.email", {p.tenant})
    # a filter the generated request left out is added in about half of the requests...
    listing = ops["GET /w/{ws}/accounts"]
    with_filter = sum("currency" in builder(crm, seed).own(listing, Template({"ws": "x"}, {}, None, {}), p).query
                      for seed in range(40))
    assert 8 < with_filter < 32
    # ...and the sweep sends each value once, deterministically
    variants = builder(crm).variants(listing, Template({"ws": "x"}, {}, None, {}), p)
    assert {v.query["currency"] for v in variants} == own and all(v.attack == "own" for v in variants)


def test_filler_reports_the_request_tenant(crm):
    _, _, ids, principals, ops = crm
    p = principals[0]
    _, _, _, _, tenant, _ = Filler(builder(crm)).own(ops["GET /w/{ws}/deals"], Template({"ws": "x"}, {}, None, {}), p)
    assert tenant == p.tenant
