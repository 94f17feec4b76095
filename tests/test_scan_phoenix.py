"""The scan against Phoenix, end to end: every planted fault is found, the clean build gives nothing.

The harness is blind to the fault switch; these tests are not. They switch one fault on (in the
environment, exactly as ``PHOENIX_FAULTS=... make scan`` does), run the same campaign ``make scan``
runs, and then judge the findings against the fault's *documented* operations or reports, and
against what the issue demands of each class (the oracle, the phase, a victim outside visibility).

Smaller worlds than ``make scan``'s keep the scans within the ``make test`` budget: the clean build
on 2 clients × 2 subsidiaries (siblings inside a client, whom a corporate admin may see and the harness
must not report, and a second client outside it), with every ``pr`` phase on 3 seeds; each fault with
the ``pr`` phase its class is caught by (the deterministic sweep; the reports phase for a report's rows;
the twin worlds for a number), which is also what the test asserts. A fault the sweep catches is scanned
on the smallest world with a tenant outside every principal's visibility (2 clients × 1 subsidiary); a
report or a number on 2 × 2, where tenants of different clients share a currency: a total per currency
that sums every tenant's invoices moves only with a foreign tenant in the same currency (the twins
perturb foreign rows, they do not invent foreign rows in the principal's categories). ``make selftest``
runs the whole ``pr`` scan per fault on ``make scan``'s world and 5 clean seeds (the README's detection
matrix).
"""

from __future__ import annotations

import pytest

from bench.selftest import matches
from harness.campaign import Campaign, Options
from phoenix import faults as catalogue
from scenarios.phoenix import PhoenixScenario

WORLD = {"clients": 2, "subsidiaries": 2}
FAULT_WORLD = {"clients": 2, "subsidiaries": 1}
CLEAN_SEEDS = (1, 2, 3)
FAULT_SEED = 1

catalogue.parse("")  # load the registry for parametrisation
FAULTS = sorted(catalogue.REGISTRY)
#: Only numbers leak: no foreign row is ever in the response, so non-interference must be the one.
AGGREGATE_CLASSES = {"report-aggregate", "count", "few-rows-count", "header-cross-tenant"}
#: Found by the deterministic sweep (issue: "most of them before the random phase starts").
SWEEP_CLASSES = {"idor", "nested", "batch", "context-override", "mass-assignment", "write-unchecked",
                 "list-unfiltered", "export", "search", "scope"}
#: Where each class is caught; any class not named here must be caught by the deterministic sweep.
CAUGHT_BY = {**{cls: "reports" for cls in ("report-join", "report-union", "report-branch")},
             **{cls: "noninterference" for cls in AGGREGATE_CLASSES}}


def phases_for(cls: str) -> tuple[str, ...]:
    return (CAUGHT_BY.get(cls, "sweep"),)


def scan(pg_server, monkeypatch, seed: int, fault: str = "", phases=None) -> tuple[dict, PhoenixScenario]:
    monkeypatch.setenv("PHOENIX_FAULTS", fault)
    scenario = PhoenixScenario(**(FAULT_WORLD if phases == ("sweep",) else WORLD))
    campaign = Campaign(scenario, Options(seed=seed, db_url=pg_server.admin_dsn, phases=phases))
    return campaign.run(), scenario


def visibility(scenario: PhoenixScenario, seed: int) -> dict[str, set[str]]:
    """principal -> the slugs of the tenants it may see."""
    world = scenario.generate_world(seed)
    slug = {t.id: t.slug for t in scenario.tenants(world)}
    return {p.name: {slug[t] for t in p.visible} for p in scenario.principals(world)}


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_clean_phoenix_scan_has_zero_findings_and_full_coverage(pg_server, monkeypatch, seed):
    doc, _ = scan(pg_server, monkeypatch, seed)
    assert doc["findings"] == [], [f["title"] for f in doc["findings"]]
    assert doc["summary"]["problems"] == []
    assert doc["summary"]["ok"]
    ops = doc["run"]["operations"]
    assert sum(op.split(" ", 1)[1].startswith("/api/dashboard/") for op in ops) == 47
    covered = {r["operation"] for r in doc["coverage"] if r["status"] == "covered"}
    assert covered == set(ops)
    assert doc["summary"]["queries_covered"] == doc["summary"]["queries"] >= 20
    assert doc["run"]["twins"], "the non-interference phase must have run"


@pytest.mark.parametrize("fault", FAULTS)
def test_scan_finds_the_planted_fault(pg_server, monkeypatch, fault):
    spec = catalogue.REGISTRY[fault]
    doc, scenario = scan(pg_server, monkeypatch, FAULT_SEED, fault, phases_for(spec.cls))
    assert not doc["summary"]["ok"], "a scan with a finding must fail"
    hits = [f for f in doc["findings"] if matches(f, spec.affects)]
    assert hits, (f"{fault}: no finding on {spec.affects}; found "
                  f"{sorted({(f['operation'], f['kind']) for f in doc['findings']})}")
    visible = visibility(scenario, FAULT_SEED)
    for f in hits:
        victims = set(f["victim_tenant"].split(","))
        assert not victims & visible[f["principal"]], f"{f['id']}: victim {victims} is visible to {f['principal']}"
        assert f["curl"].startswith("curl ") and f["reproduce"].startswith("tenant-harness reproduce ")
    kinds = {f["kind"] for f in hits}
    if spec.cls in AGGREGATE_CLASSES:
        ni = [f for f in hits if f["oracle"] == "non-interference"]
        assert ni, f"{fault}: an aggregate leak must be caught by non-interference, got {kinds}"
        assert all("in the base world" in f["evidence"] and "in the twin" in f["evidence"] for f in ni)
    if spec.cls == "write-unchecked":
        writes = [f for f in hits if f["kind"] == "write-isolation"]
        assert writes, kinds
        assert all(f["locus"].startswith("table:") and f["request"]["method"] in ("POST", "PUT", "PATCH", "DELETE")
                   for f in writes)
    if spec.cls == "mass-assignment":
        assert "mass-assignment" in kinds, kinds
    if spec.cls in SWEEP_CLASSES:
        assert "sweep" in {f["phase"] for f in hits}, {f["phase"] for f in hits}
    assert {f["phase"] for f in hits} & set(phases_for(spec.cls))
    assert doc["summary"]["problems"] == [], "the fault's scan must still cover what its phases reach"


@pytest.mark.parametrize("fault, expected", [("", set()), ("rls-not-forced", {("table documents", "rls-not-forced")})])
def test_the_database_audit_phase_reports_weakened_rls(pg_server, monkeypatch, fault, expected):
    monkeypatch.setenv("PHOENIX_FAULTS", fault)
    doc = Campaign(PhoenixScenario(**FAULT_WORLD), Options(seed=FAULT_SEED, db_url=pg_server.admin_dsn,
                                                           phases=("audit",))).run()
    audit = {(f["operation"], f["locus"]) for f in doc["findings"] if f["kind"] == "db-audit"}
    assert audit == expected
    assert doc["run"]["security_definer"]


def test_stateful_phase_finds_an_idor_on_an_object_created_during_the_run(pg_server, monkeypatch):
    """Create an invoice as A, fetch it by id as B: caught with the fresh id, no seeded row involved."""
    monkeypatch.setenv("PHOENIX_FAULTS", "idor-get")
    scenario = PhoenixScenario(**FAULT_WORLD)
    doc = Campaign(scenario, Options(seed=FAULT_SEED, db_url=pg_server.admin_dsn, phases=("stateful",))).run()
    seeded = {str(r["id"]) for r in scenario.generate_world(FAULT_SEED).tables["invoices"]}
    hits = [f for f in doc["findings"] if f["operation"] == "GET /api/dashboard/invoices/{invoice_id}"]
    assert hits and all(f["phase"] == "stateful" for f in hits)
    assert all(f["request"]["url"].rsplit("/", 1)[1] not in seeded for f in hits)
