"""The ownership index and the foreign-row oracle, on hand-built worlds."""

import uuid

from harness.markers import OwnershipIndex
from harness.oracles import foreign_rows
from harness.world import World

A, B, C = (str(uuid.UUID(int=i, version=4)) for i in (1, 2, 3))  # A, B: client x; C: client y


def world():
    return World(
        seed=1,
        tables={
            "currencies": [{"code": "EUR", "name": "Euro Currency Unit"}],
            "clients": [{"id": "c-x", "name": "Xylophone Holdings"}, {"id": "c-y", "name": "Yodel Industries"}],
            "tenants": [{"id": A, "client_id": "c-x"}, {"id": B, "client_id": "c-x"}, {"id": C, "client_id": "c-y"}],
            "customers": [
                {"id": "11111111-1111-4111-8111-111111111111", "tenant_id": A, "name": "Alpha Widgets Ltd",
                 "status": "active", "email": "ann.smith@alpha.example"},
                {"id": "22222222-2222-4222-8222-222222222222", "tenant_id": B, "name": "Beta Gadgets GmbH",
                 "status": "active", "email": "bob.smithson@beta.example"},
                {"id": "33333333-3333-4333-8333-333333333333", "tenant_id": C, "name": "Gamma Tools Inc",
                 "status": "active", "email": "cat@gamma.example", "note": "Euro Currency Unit"},
                {"id": "44444444-4444-4444-8444-444444444444", "tenant_id": C, "name": "Shared Name Corp",
                 "status": "archived", "email": "x@c.example"},
                {"id": "55555555-5555-4555-8555-555555555555", "tenant_id": A, "name": "Shared Name Corp",
                 "status": "archived", "email": "y@a.example"},
            ],
        },
        tenant_columns={"currencies": None, "clients": None, "tenants": "id", "customers": "tenant_id"},
        group_owners={"clients": ("id", {"c-x": (A, B), "c-y": (C,)})},
    )


def test_values_shared_between_tenants_are_not_markers():
    index = OwnershipIndex.from_world(world())
    assert index.owners("Shared Name Corp") is None
    assert index.owners("active") is None  # short and shared
    assert index.owners("Alpha Widgets Ltd") == frozenset({A})


def test_reference_data_never_leaks():
    index = OwnershipIndex.from_world(world())
    assert index.owners("Euro Currency Unit") is None
    assert foreign_rows.check(index, frozenset({A}), "", [("body", '{"currency": "Euro Currency Unit"}')]) == []


def test_own_data_is_not_a_finding():
    index = OwnershipIndex.from_world(world())
    body = '{"items": [{"id": "11111111-1111-4111-8111-111111111111", "name": "Alpha Widgets Ltd"}]}'
    assert foreign_rows.check(index, frozenset({A}), "", [("body", body)]) == []


def test_foreign_row_is_found_with_victim_and_excerpt():
    index = OwnershipIndex.from_world(world())
    body = '{"items": [{"id": "33333333-3333-4333-8333-333333333333", "name": "Gamma Tools Inc"}]}'
    leaks = foreign_rows.check(index, frozenset({A}), "", [("body", body)])
    assert {leak.owners for leak in leaks} == {frozenset({C})}
    assert {leak.locus for leak in leaks} == {"id", "name"}
    assert all("»" in leak.evidence and len(leak.evidence) < 200 for leak in leaks)


def test_corporate_admin_reads_its_subsidiaries_but_not_another_client():
    index = OwnershipIndex.from_world(world())
    corporate = frozenset({A, B})
    mine = '{"a": "Alpha Widgets Ltd", "b": "Beta Gadgets GmbH", "client": "Xylophone Holdings"}'
    assert foreign_rows.check(index, corporate, "", [("body", mine)]) == []
    leaks = foreign_rows.check(index, corporate, "", [("body", '{"client": "Yodel Industries"}')])
    assert [leak.owners for leak in leaks] == [frozenset({C})]


def test_reflected_values_are_not_leaks_but_headers_are_scanned():
    index = OwnershipIndex.from_world(world())
    foreign_id = "33333333-3333-4333-8333-333333333333"
    refusal = f'{{"detail": "customer {foreign_id} not found"}}'
    assert foreign_rows.check(index, frozenset({A}), f"/customers/{foreign_id}", [("body", refusal)]) == []
    parts = foreign_rows.response_parts({"Location": f"/customers/{foreign_id}", "Server": "x"}, "")
    leaks = foreign_rows.check(index, frozenset({A}), "", parts)
    assert [(leak.where, leak.owners) for leak in leaks] == [("location", frozenset({C}))]


def test_substring_of_another_tenants_text_is_not_a_marker():
    index = OwnershipIndex.from_world(world())
    # "ann.smith@alpha.example" is A's; B's "bob.smithson@beta.example" does not contain it, so it stays.
    assert index.owners("ann.smith@alpha.example") == frozenset({A})
    w = world()
    w.tables["customers"][1]["note"] = "met ann.smith@alpha.example at a fair"
    assert OwnershipIndex.from_world(w).owners("ann.smith@alpha.example") is None


def test_values_created_during_the_run_join_the_index():
    index = OwnershipIndex.from_world(world())
    new_id = str(uuid.uuid4())
    assert index.add(new_id, C)
    leaks = foreign_rows.check(index, frozenset({A}), "", [("body", f'{{"id": "{new_id}"}}')])
    assert [leak.owners for leak in leaks] == [frozenset({C})]


def test_a_categorical_value_unique_to_one_tenant_by_chance_is_not_a_marker():
    """'transfer' paid by one tenant only is still a payment method, not that tenant's secret."""
    tenants = [A, A, B, B, C, C, A, B]
    methods = ["card", "card", "card", "direct_debit", "card", "direct_debit", "transfer", "card"]
    payments = [{"id": str(uuid.UUID(int=100 + i, version=4)), "tenant_id": t, "method": m,
                 "reference": f"PAY-{i:04d}-{t[-4:]}"} for i, (t, m) in enumerate(zip(tenants, methods))]
    w = World(1, {"payments": payments}, {"payments": "tenant_id"})
    index = OwnershipIndex.from_world(w)
    assert index.owners("transfer") is None and index.owners("direct_debit") is None
    assert index.owners(payments[6]["reference"]) == frozenset({A})  # identifiers stay markers
    assert not foreign_rows.check(index, frozenset({C}), "", [("body", '{"method": "transfer"}')])


def test_values_published_in_the_api_document_are_dropped():
    index = OwnershipIndex.from_world(world())
    spec = '{"components": {"schemas": {"Kind": {"enum": ["Alpha Widgets Ltd", "other"]}}}}'
    assert index.drop_public(spec) == ["Alpha Widgets Ltd"]
    assert index.owners("Alpha Widgets Ltd") is None
    assert index.owners("ann.smith@alpha.example") == frozenset({A})
    assert not foreign_rows.check(index, frozenset({C}), "", [("body", "Alpha Widgets Ltd")])


def test_many_values_created_during_the_run_stay_findable_across_merges():
    from harness.markers import MERGE_AT

    index = OwnershipIndex.from_world(world())
    created = [str(uuid.UUID(int=10_000 + i, version=4)) for i in range(MERGE_AT + 5)]
    for i, value in enumerate(created):
        assert index.add(value, C)
        if i % 97 == 0:  # scans interleaved with adds, as in a run
            assert [h.marker for h in index.scan(f"x {value} y")] == [value]
    text = " ".join(created) + " ann.smith@alpha.example"
    hits = index.foreign_hits(text, frozenset({A}))
    assert {h.marker for h in hits} == set(created)
    assert {h.marker for h in index.scan(text)} == set(created) | {"ann.smith@alpha.example"}


def test_a_value_the_app_derived_from_the_request_is_reflection():
    """A slug made from a name the request sent (case and punctuation changed) is not a leak."""
    w = world()
    w.tables["customers"][2]["slug"] = "gamma-tools-inc"
    index = OwnershipIndex.from_world(w)
    assert index.owners("gamma-tools-inc") == frozenset({C})
    sent = '{"name": "Gamma Tools Inc"}'
    answer = '{"slug": "gamma-tools-inc-2", "name": "Gamma Tools Inc"}'
    assert foreign_rows.check(index, frozenset({A}), sent, [("body", answer)]) == []
    assert foreign_rows.check(index, frozenset({A}), '{"name": "other"}', [("body", answer)]) != []


def test_a_foreign_marker_inside_a_longer_own_marker_is_not_a_leak():
    w = world()
    w.tables["customers"][2]["slug"] = "gamma-tools"
    index = OwnershipIndex.from_world(w)
    index.add("gamma-tools-2", A)  # A's own object, named after C's by chance
    assert foreign_rows.check(index, frozenset({A}), "", [("body", '{"slug": "gamma-tools-2"}')]) == []
    leaks = foreign_rows.check(index, frozenset({A}), "", [("body", '{"slug": "gamma-tools"}')])
    assert [leak.owners for leak in leaks] == [frozenset({C})]
