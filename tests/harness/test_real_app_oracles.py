"""Oracles that hold on real apps (not Phoenix): tenant creation is no cross-tenant write, what a
principal wrote into its own tenant is no foreign row when read back, notes do not fail a scan, and
evidence is an excerpt. The live read-back and live non-interference are tested on examples/boards."""

from __future__ import annotations

import asyncio

from harness.campaign import Campaign, Options
from harness.fuzz.probes import Probe
from harness.model import blocking
from harness.oracles.noninterference import clip_pair
from tests.harness.toyapp import ToyScenario
from tests.shapes.live import running


def scan(pg_server, **scenario) -> dict:
    return Campaign(ToyScenario(**scenario), Options(seed=3, db_url=pg_server.admin_dsn, phases=("sweep",))).run()


def writes(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if f["kind"] in ("write-isolation", "mass-assignment")]


def test_a_sign_up_that_creates_a_new_tenant_is_not_a_cross_tenant_write(pg_server):
    clean = scan(pg_server, signup="clean")
    assert writes(clean) == [] and clean["summary"]["ok"], [f["evidence"] for f in clean["findings"]]
    assert any(r["operation"] == "POST /signup" and r["status"] == "covered" for r in clean["coverage"])
    # The same sign-up writing its welcome note into an existing tenant is one.
    leaky = scan(pg_server, signup="leaky")
    hits = writes(leaky)
    assert hits and {f["operation"] for f in hits} == {"POST /signup"}
    assert {f["principal"] for f in hits} == {"bumblebee:user"} and {f["victim_tenant"] for f in hits} == {"aardvark"}


def test_what_a_principal_wrote_into_its_own_tenant_is_reflection_when_read_back(pg_server):
    async def go():
        async with running(pg_server, ToyScenario()) as ctx:
            a, b = ctx.principals
            ex, ops = ctx.exchange, {o.label: o for o in ctx.operations}
            b_title = next(r["title"] for r in ctx.world.tables["notes"] if r["tenant_id"] == b.tenant)
            assert ctx.index.owners(b_title) == frozenset({b.tenant})
            # A write of A's own (a profile field, a generated body) that happens to carry B's value.
            create = Probe(ops["POST /notes"], {}, {}, {}, {"title": b_title})
            assert (await ex.send(ctx.target.clients[a.name], a, create, "sweep")).status_code == 201
            listed = await ex.send(ctx.target.clients[a.name], a, Probe(ops["GET /notes"], {}, {}, {}, None), "sweep")
            assert b_title in listed.text
            return [f for f in ex.findings.values() if f.kind == "foreign-row"]

    assert asyncio.run(go()) == []


def test_a_foreign_value_nobody_wrote_into_ones_own_tenant_is_still_a_leak(pg_server):
    doc = Campaign(ToyScenario(leaky=True), Options(seed=3, db_url=pg_server.admin_dsn, phases=("sweep",))).run()
    assert any(f["kind"] == "foreign-row" and f["operation"] == "GET /notes/{note_id}" for f in doc["findings"])


def test_notes_and_warnings_fail_only_where_they_should():
    assert blocking({"severity": "error"}, {"profile": "pr"}) and blocking({}, {"profile": "pr"})
    assert not blocking({"severity": "note"}, {"profile": "release"})
    assert not blocking({"severity": "warning"}, {"profile": "pr"})
    assert blocking({"severity": "warning"}, {"profile": "release"})


def test_non_interference_evidence_is_an_excerpt_around_the_first_difference():
    export = "id,name\n" + "".join(f"{i},customer {i}\n" for i in range(2000))
    a, b = clip_pair(export, export.replace("customer 1500", "customer 9999"))
    assert len(a) < 80 and len(b) < 80 and "1500" in a and "9999" in b
    assert clip_pair(17, 18) == ("17", "18")
