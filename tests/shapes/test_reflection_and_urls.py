"""Reflection compares what the request carried, decoded; an address header names objects by their key."""

import httpx

from harness.fuzz.operations import load_operations
from harness.fuzz.probes import Probe
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.oracles import foreign_rows
from harness.world import World
from tests.shapes.crm_app import create_app
from tests.shapes.crm_scenario import CrmScenario

A, B = "t-a", "t-b"


def world() -> World:
    return World(1, {"people": [
        {"id": "p1", "tenant": A, "name": "Anna Jankowski", "city": "Zoë's Kraków office"},
        {"id": "p2", "tenant": B, "name": "Bartholomew Quist", "city": "Porto Alegre harbour"},
    ]}, {"people": "tenant"})


class Op:
    method, path, path_params, query_params, label, safe = "GET", "/people", (), ("q",), "GET /people", True


def leaks(index, probe, body):
    text = foreign_rows.request_text(probe, None)
    return foreign_rows.check(index, frozenset({B}), text, [("body", body)])


def test_a_searched_name_with_a_space_echoed_back_is_reflection_not_a_leak():
    index = OwnershipIndex.from_world(world())
    probe = Probe(Op(), {}, {"q": "Anna Jankowski"}, {}, None)
    assert "q=Anna+Jankowski" in probe.url()  # what went over the wire, encoded
    assert leaks(index, probe, '{"detail": "no match for Anna Jankowski"}') == []
    # a value the request did not carry is still a leak
    found = leaks(index, probe, '{"items": [{"name": "Anna Jankowski", "city": "Zoë\'s Kraków office"}]}')
    assert [leak.marker for leak in found] == ["Zoë's Kraków office"]


def test_non_ascii_and_json_escaped_values_are_compared_as_the_app_reads_them():
    index = OwnershipIndex.from_world(world())
    body = {"city": "Zoë's Kraków office"}
    probe = Probe(Op(), {}, {}, {}, body)
    text = foreign_rows.request_text(probe, body)
    assert foreign_rows.check(index, frozenset({B}), text, [("body", '{"error": "Zoë\'s Kraków office taken"}')]) == []


def crm():
    scenario = CrmScenario()
    w = scenario.generate_world(3)
    ids = ResourceIds(w, scenario.resource_aliases)
    ops = load_operations(create_app("postgresql://unused").openapi(), (), scenario.skip_operations)
    tenants = {str(t["id"]): t["slug"] for t in w.tables["workspaces"]}
    return w, ids, ops, tenants


def test_a_location_naming_another_tenants_object_by_a_small_integer_is_a_leak():
    w, ids, ops, slug = crm()
    mine, theirs = "1", "2"
    foreign = next(a for a in w.tables["accounts"] if str(a["workspace_id"]) == theirs)
    own = next(a for a in w.tables["accounts"] if str(a["workspace_id"]) == mine)
    headers = httpx.Headers({"location": f"/w/{slug[mine]}/accounts/{foreign['id']}"})
    found = foreign_rows.url_leaks(ids, ops, frozenset({mine}), headers, {foreign["number"]})
    assert [(leak.owners, leak.where) for leak in found] == [(frozenset({theirs}), "location")]
    assert f"»{foreign['id']}«" in found[0].evidence and "accounts id=" in found[0].evidence
    # one's own object, a value the request itself carried, an address of no operation: nothing
    assert foreign_rows.url_leaks(ids, ops, frozenset({mine}),
                                  httpx.Headers({"location": f"/w/{slug[mine]}/accounts/{own['id']}"}), set()) == []
    assert foreign_rows.url_leaks(ids, ops, frozenset({mine}), headers, {str(foreign["id"])}) == []
    assert foreign_rows.url_leaks(ids, ops, frozenset({mine}), httpx.Headers({"location": "/elsewhere/7"}), set()) == []
    # a Link naming another workspace (its next page) is one too, also from an app mounted under a prefix
    link = httpx.Headers({"link": f'</api/w/{slug[theirs]}/deals?offset=10>; rel="next"'})
    found = foreign_rows.url_leaks(ids, ops, frozenset({mine}), link, set())
    assert [(leak.owners, leak.where, leak.marker) for leak in found] == [(frozenset({theirs}), "link", slug[theirs])]
    own_page = httpx.Headers({"link": f'</api/w/{slug[mine]}/deals?offset=10>; rel="next"'})
    assert foreign_rows.url_leaks(ids, ops, frozenset({mine}), own_page, set()) == []
