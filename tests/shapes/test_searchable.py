"""Search terms: each list's search is asked with the principal's own values, field by field, and the
victim's terms are its values of the fields that brought a row back. On the CRM (a name searched in
accounts; a name or an e-mail in contacts) and on Phoenix (its global search across types)."""

import asyncio

from harness.fuzz import searchable
from harness.fuzz.resources import Ref
from scenarios.phoenix import PhoenixScenario
from tests.shapes.crm_scenario import CrmScenario
from tests.shapes.live import running


def learn(server, scenario, seed=1):
    async def run():
        async with running(server, scenario, seed) as ctx:
            learned = await searchable.learn(ctx)
            ops = {op.label: op for op in ctx.operations}
            terms = {label: {t.id: ctx.search_terms(t.id, ops[label]) for t in ctx.tenants} for label in learned}
            return learned, terms, ctx.exchange.requests, ctx.world, ctx.index, dict(ctx.exchange.findings)
    return asyncio.run(run())


def test_the_crm_lists_are_searched_by_the_fields_their_search_really_looks_at(pg_server):
    learned, terms, requests, world, index, findings = learn(pg_server, CrmScenario())
    assert learned["GET /w/{ws}/accounts"] == [Ref("accounts", "name")]  # not the number, not the currency
    assert set(learned["GET /w/{ws}/contacts"]) == {Ref("contacts", "email"), Ref("contacts", "name")}
    assert requests <= 2 * searchable.MAX_PROBES * 2 and not findings
    for tenant, found in terms["GET /w/{ws}/contacts"].items():
        contacts = [c for c in world.tables["contacts"] if str(c["workspace_id"]) == tenant]
        assert 1 <= len(found) <= searchable.MAX_TERMS
        assert set(found) <= {c["name"] for c in contacts} | {c["email"] for c in contacts}
        assert all(index.owners(t) == {tenant} for t in found)  # a value only the victim holds
    names = {t: {a["name"] for a in world.tables["accounts"] if str(a["workspace_id"]) == t}
             for t in terms["GET /w/{ws}/accounts"]}
    assert all(found and set(found) <= names[t] for t, found in terms["GET /w/{ws}/accounts"].items())


def test_phoenix_global_search_is_learned_across_types(pg_server):
    learned, terms, _, world, _, findings = learn(pg_server, PhoenixScenario(2, 2))
    found = learned["GET /api/dashboard/search"]
    assert found and {ref.table for ref in found} <= {"projects", "tasks", "customers", "invoices"}
    assert learned["GET /api/dashboard/customers"]
    assert not findings
    victim_terms = next(iter(terms["GET /api/dashboard/search"].values()))
    assert 1 <= len(victim_terms) <= searchable.MAX_TERMS


def test_an_item_counts_only_when_listed():
    assert searchable.lists({"items": [{"id": 1, "name": "Acme"}]}, "Acme")
    assert searchable.lists([{"title": "x", "sub": [{"n": "Acme"}]}], "Acme")
    assert not searchable.lists({"q": "Acme", "items": []}, "Acme")  # an echoed query is no result
