"""The scan against the CRM shape, with its scenario as written (no workaround): clean gives nothing and
covers everything on three seeds; each planted leak is found; created objects are attacked under their
nested paths; a finding's reproduce line works as printed, from another report folder too.

The scans are real (embedded PostgreSQL, the app in-process over httpx); the leak tests run the sweep
only, which is where each of these leaks shows (the clean scans run every phase of the profile).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness.campaign import Campaign, Options
from tests.shapes.crm_app import LEAKS
from tests.shapes.crm_scenario import CrmScenario

ROOT = Path(__file__).resolve().parents[2]
CLEAN_SEEDS = (1, 2, 3)
LEAK_SEED = 1


def scan(pg_server, seed: int, leaks=(), **options) -> tuple[dict, CrmScenario]:
    scenario = CrmScenario(leaks)
    return Campaign(scenario, Options(seed=seed, db_url=pg_server.admin_dsn, **options)).run(), scenario


def visible(scenario: CrmScenario, seed: int) -> dict[str, set[str]]:
    """principal -> the slugs of the workspaces it is a member of."""
    world = scenario.generate_world(seed)
    slug = {t.id: t.slug for t in scenario.tenants(world)}
    return {p.name: {slug[t] for t in p.visible} for p in scenario.principals(world)}


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_clean_crm_scan_has_zero_findings_and_full_coverage(pg_server, seed):
    doc, _ = scan(pg_server, seed)
    active = [f for f in doc["findings"] if not f.get("waived")]
    assert active == [], [(f["kind"], f["operation"], f["evidence"]) for f in active]
    assert doc["summary"]["findings"] == 0 and doc["summary"]["ok"] and doc["summary"]["problems"] == []
    assert len(doc["run"]["operations"]) == 16 and len(doc["run"]["principals"]) == 9
    assert {r["status"] for r in doc["coverage"]} <= {"covered", "forbidden"}
    covered = {r["operation"] for r in doc["coverage"] if r["status"] == "covered"}
    assert covered == set(doc["run"]["operations"])  # the redirect, the composite key, the nested creates
    forbidden = {(r["operation"], r["principal"]) for r in doc["coverage"] if r["status"] == "forbidden"}
    assert {op for op, _ in forbidden} == {"POST /w/{ws}/members", "DELETE /w/{ws}/members/{user_id}"}
    assert doc["run"]["twins"], "the non-interference phase must have run"
    # the platform-wide unique e-mail is by design: declared with its reason, and nothing else is waived
    waived = [f for f in doc["findings"] if f.get("waived")]
    assert all(f["kind"] == "existence" and f["operation"] == "POST /w/{ws}/contacts" for f in waived)
    assert all("unique across the whole platform by design" in f["waived"]["reason"] for f in waived)


#: What each leak must look like: (oracle, a piece of the evidence).
EXPECTED = {
    "members-admin-anywhere": ("write-isolation", "memberships: inserted 1 (workspace_id="),
    "contact-idor": ("foreign-row", "body field 'email'"),
    "accounts-currency-unscoped": ("foreign-row", "body field"),
    "by-number-any-workspace": ("foreign-row", "location header"),
    "member-delete-any-workspace": ("write-isolation", "memberships: deleted 1 (workspace_id="),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_each_planted_leak_is_found(pg_server, leak):
    doc, scenario = scan(pg_server, LEAK_SEED, {leak}, phases=("sweep",))
    operations, _ = LEAKS[leak]
    oracle, evidence = EXPECTED[leak]
    hits = [f for f in doc["findings"] if f["operation"] in operations and f["oracle"] == oracle and not f["waived"]]
    assert hits, [(f["kind"], f["operation"], f["evidence"][:100]) for f in doc["findings"]]
    assert any(evidence in f["evidence"] for f in hits), [f["evidence"] for f in hits]
    sees = visible(scenario, LEAK_SEED)
    for f in hits:
        assert not set(f["victim_tenant"].split(", ")) & sees[f["principal"]], f["id"]
    if leak == "accounts-currency-unscoped":  # reached only with a currency the data uses
        assert all("currency=" in f["request"]["url"] for f in hits)
    if leak == "by-number-any-workspace":  # a small integer in Location, attributed through the path
        assert all(f["request"]["url"].startswith("/w/") and "/by-number/" in f["request"]["url"] for f in hits)
    assert not doc["summary"]["ok"]


def test_the_stateful_phase_creates_under_nested_paths_and_attacks_the_new_objects(pg_server):
    """Every CRM create sits under /w/{ws}/: the contact A creates (an integer id no seeded row has) is
    read by B through the IDOR, and named by the unique value A's request wrote."""
    doc, scenario = scan(pg_server, LEAK_SEED, {"contact-idor"}, phases=("stateful",), profile="nightly")
    seeded = {c["id"] for c in scenario.generate_world(LEAK_SEED).tables["contacts"]}
    hits = [f for f in doc["findings"] if f["phase"] == "stateful" and f["operation"] == "GET /w/{ws}/contacts/{contact_id}"]
    assert hits, doc["findings"]
    for f in hits:
        fresh = int(f["request"]["url"].rsplit("/", 1)[1])
        assert fresh not in seeded
    created = {r["operation"] for r in doc["coverage"] if r["status"] == "covered" and r["operation"].startswith("POST")}
    assert {"POST /w/{ws}/accounts", "POST /w/{ws}/contacts", "POST /w/{ws}/deals"} <= created


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


def test_the_scenario_file_scans_and_each_reproduce_line_runs_as_printed(pg_server, tmp_path):
    out = tmp_path / "elsewhere"
    env = {"HARNESS_DATABASE_URL": pg_server.admin_dsn, "CRM_LEAKS": "by-number-any-workspace"}
    result = cli("scan", "--scenario", "tests/shapes/crm_scenario.py", "--out", str(out), "--phases", "sweep", "-q",
                 env=env)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    doc = json.loads((out / "findings.json").read_text())
    finding = next(f for f in doc["findings"] if f["operation"] == "GET /w/{ws}/accounts/by-number/{number}")
    line = finding["reproduce"]
    assert f"--reports {out}" in line and "--scenario tests/shapes/crm_scenario.py" in line
    args = shlex.split(line)
    assert args[:2] == ["tenant-harness", "reproduce"]
    again = cli(*args[1:], env=env)
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"REPRODUCED {finding['id']}" in again.stdout
    fixed = cli(*args[1:], env={**env, "CRM_LEAKS": ""})
    assert fixed.returncode == 0 and "not reproduced" in fixed.stdout


def test_the_reproduce_line_names_the_report_folder_only_when_it_is_not_the_default():
    from harness.document import reproduce_command

    assert reproduce_command("TH-1", "s.py", 3) == "tenant-harness reproduce TH-1 --scenario s.py --seed 3"
    assert reproduce_command("TH-1", "s.py", 3, "reports") == reproduce_command("TH-1", "s.py", 3)
    assert reproduce_command("TH-1", "my s.py", 3, "out/ci run").endswith("--seed 3 --reports 'out/ci run'")
