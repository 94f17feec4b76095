"""Root cause in SQL on whole Phoenix scans: every SQL-level planted fault's finding names its statement
and table; the clean build's every statement is classified and listed, with no latent warning.

Which faults are SQL-level is decided by what each one is (``phoenix/faults.py``, the descriptions in
``python -m phoenix faults``): a fault is SQL-level when the bug is a statement that reads or writes a
tenant table with nothing keeping it in the tenant: no tenant predicate on a connection row-level
security does not bind (the reporting or worker role, BYPASSRLS; the table owner without FORCE), or,
for ``pooled-context-leak``, no predicate at all, so that only RLS and whatever context the pooled
session carries decide (the root cause then names the statement as ``rls-only``). The others are
listed in :data:`NOT_SQL` with why no statement is at fault; a new fault must be put in one of the two.

Three scans of the small world (2 clients × 2 subsidiaries), shared by module fixtures: the clean build
with every ``pr`` phase; the SQL-level faults the sweep finds, together, with the sweep only; the
report and aggregate faults, together, with the sweep, reports and non-interference phases (a fault's
findings are told apart by the operations and reports the catalogue says it affects). Scanning the
faults together instead of one by one keeps the file to a few minutes; each fault is still its own
test.
"""

from __future__ import annotations

import copy
import json

import pytest

from bench.selftest import matches
from harness import model
from harness.campaign import Campaign, Options
from harness.report import write_reports
from phoenix import faults as catalogue
from scenarios.phoenix import PhoenixScenario
from tests.test_scan_phoenix import phases_for

WORLD = {"clients": 2, "subsidiaries": 2}
SEED = 1
pytestmark = pytest.mark.xdist_group("root-cause")  # one worker: the module's scans are shared, not repeated

catalogue.parse("")  # load the registry
#: Faults whose bug is not in a statement, and why.
NOT_SQL = {
    "cache-key-without-tenant": "no SQL runs: the answer comes from a cache keyed without the tenant",
    "corporate-scope-too-broad": "every statement keeps to the tenant set; the SECURITY DEFINER function "
                                 "computing that set is wrong (statements inside functions are not captured)",
    "tenant-header-override": "every statement keeps to the tenant context; the context is taken from a header",
    "mass-assignment-tenant": "the INSERT keeps to the tenant context; the context is opened in the body's tenant",
    "invoice-project-reference-unchecked": "a check is missing, not a predicate: the UPDATE is tenant-bound, "
                                           "and foreign-key checks bypass RLS by design",
    "project-code-unique-globally": "an index (install-time DDL) is unique across tenants; the INSERT is tenant-bound",
}
#: SQL-level fault -> (tables the faulty statement leaks, any of which the root cause names; the role
#: it runs as; the verdict of that table access).
SQL_LEVEL = {
    "batch-get-first-only": ({"projects"}, "phoenix_reporting", "unprotected"),
    "document-forbidden-reveals-existence": ({"documents"}, "phoenix_reporting", "unprotected"),
    "error-echoes-foreign": ({"tags"}, "phoenix_reporting", "unprotected"),
    "export-total-header-all-tenants": ({"customers"}, "phoenix_reporting", "unprotected"),
    "export-unfiltered": ({"invoices"}, "phoenix_reporting", "unprotected"),
    "idor-get": ({"invoices"}, "phoenix_reporting", "unprotected"),
    "list-unfiltered": ({"customers"}, "phoenix_reporting", "unprotected"),
    "nested-child-unchecked": ({"tasks"}, "phoenix_reporting", "unprotected"),
    "pagination-total-cross-tenant": ({"projects"}, "phoenix_reporting", "unprotected"),
    "pooled-context-leak": ({"audit_events"}, "phoenix_app", "rls-only"),
    "report-aggregate-all-tenants": ({"invoices"}, "phoenix_reporting", "unprotected"),
    "report-idle-assignees-unfiltered": ({"users"}, "phoenix_reporting", "unprotected"),
    "report-join-missing-tenant": ({"tags", "task_tags", "tasks"}, "phoenix_reporting", "unprotected"),
    "report-share-denominator-all-tenants": ({"invoices"}, "phoenix_reporting", "unprotected"),
    "report-union-branch-unfiltered": ({"payments"}, "phoenix_reporting", "unprotected"),
    "rls-not-forced": ({"documents"}, "phoenix_owner", "unprotected"),
    "search-cross-tenant": ({"projects", "tasks", "customers", "invoices"}, "phoenix_reporting", "unprotected"),
    "seat-count-all-tenants": ({"users"}, "phoenix_worker", "unprotected"),
    "system-notices-all-tenants": ({"notifications"}, "phoenix_reporting", "unprotected"),
    "time-entries-later-pages-unfiltered": ({"time_entries"}, "phoenix_reporting", "unprotected"),
    "update-delete-unchecked": ({"tasks"}, "phoenix_worker", "unprotected"),
}
SWEEP = sorted(f for f in SQL_LEVEL if phases_for(catalogue.REGISTRY[f].cls) == ("sweep",))
DEEP = sorted(set(SQL_LEVEL) - set(SWEEP))
DEEP_PHASES = ("sweep", "reports", "noninterference")  # reports: a report's statements run on the run's database
#: Counts over every tenant that only the twins show: with the sweep alone, no finding explains them.
LATENT = {"pagination-total-cross-tenant": "GET /api/dashboard/projects",
          "seat-count-all-tenants": "GET /api/dashboard/users"}


def scan(pg_server, faults, phases=None) -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHOENIX_FAULTS", ",".join(faults))
        doc = Campaign(PhoenixScenario(**WORLD), Options(seed=SEED, db_url=pg_server.admin_dsn, phases=phases)).run()
    if not doc["run"]["sql"]["available"]:
        pytest.skip(f"no statement capture on this server: {doc['run']['sql']['reason']}")
    return doc


@pytest.fixture(scope="module")
def clean(pg_server) -> dict:
    return scan(pg_server, [])


@pytest.fixture(scope="module")
def swept(pg_server) -> dict:
    return scan(pg_server, SWEEP + sorted(LATENT), ("sweep",))


@pytest.fixture(scope="module")
def deep(pg_server) -> dict:
    return scan(pg_server, DEEP, DEEP_PHASES)


def test_every_planted_fault_is_classed_sql_level_or_not():
    assert set(SQL_LEVEL) | set(NOT_SQL) == set(catalogue.REGISTRY)
    assert not set(SQL_LEVEL) & set(NOT_SQL)
    assert set(LATENT) <= set(DEEP) and "sweep" in DEEP_PHASES


@pytest.mark.parametrize("fault", sorted(SQL_LEVEL))
def test_the_faults_finding_names_the_faulty_statement_and_its_table(request, clean, fault):
    doc = request.getfixturevalue("swept" if fault in SWEEP else "deep")
    tables, role, verdict = SQL_LEVEL[fault]
    spec = catalogue.REGISTRY[fault]
    reports = {a[len("report:"):] for a in spec.affects if a.startswith("report:")}
    # Several faults share a scan: a report fault's findings are those of its own reports.
    hits = [f for f in doc["findings"] if matches(f, spec.affects) and f["kind"] != "latent"
            and (not reports or (f.get("query") or f["operation"].removeprefix("query ")) in reports)]
    assert hits, f"{fault}: not found at all"
    inventory = {s["id"]: s for s in doc["run"]["sql"]["statements"]}
    clean_ids = {s["id"] for s in clean["run"]["sql"]["statements"]}
    for f in hits:
        named = [c for c in f["root_cause"] if c["table"] in tables and c["role"] == role and c["verdict"] == verdict]
        assert named, (f"{fault}: {f['id']} ({f['kind']} on {f['operation']}) names "
                       f"{[(c['table'], c['role'], c['verdict']) for c in f['root_cause']]}")
        for c in named:
            assert c["table"] in c["statement"] and c["why"] and len(c["statement"]) <= 300
            assert c["sql_id"] not in clean_ids  # the faulty statement: the clean build never runs it
            if f["oracle"] == "non-interference":  # found on the twins: its statements are the inventory's
                assert c["from"] == "inventory"
            listed = inventory[c["sql_id"]]
            assert any(t["table"] == c["table"] and t["verdict"] == verdict for t in listed["tables"])


def test_a_count_no_finding_explains_is_a_latent_warning_failing_only_release(swept):
    latent = {f["operation"]: f for f in swept["findings"] if f["kind"] == "latent"}
    for fault, operation in LATENT.items():
        f = latent.get(operation)
        assert f is not None, f"{fault}: no latent warning on {operation}: {sorted(latent)}"
        tables, role, _ = SQL_LEVEL[fault]
        assert (f["severity"], f["oracle"], f["phase"]) == ("warning", "sql", "sweep")
        named = {(c["table"], c["role"], c["verdict"]) for c in f["root_cause"]}
        assert named == {(t, role, "unprotected") for t in tables}
        assert f["id"] in swept["run"]["sql"]["latent"] and f["locus"].startswith("sql:SQL-")
    # A warning: reported on its pair, failing it only under the release profile.
    ids = {f["id"] for f in latent.values()}
    only_latent = copy.deepcopy(swept)
    only_latent["findings"] = [f for f in swept["findings"] if f["id"] in ids]
    pr = model.from_document(only_latent).to_document()
    rows = [r for r in pr["coverage"] if set(r["notes"]) & ids]
    assert rows and all(r["test"] == "passed" and not r["findings"] for r in rows)
    assert pr["summary"]["findings"] == 0 and pr["summary"]["notes"] == len(ids)
    only_latent["run"]["profile"] = "release"
    release = model.from_document(only_latent).to_document()
    assert release["summary"]["findings"] == len(ids) and not release["summary"]["ok"]
    failed = [r for r in release["coverage"] if set(r["findings"]) & ids]
    assert len(failed) == len(rows) and all(r["test"] == "failed" for r in failed)


def test_the_latent_ids_are_stable_across_runs(pg_server, swept):
    """Derived from the statement and the table, never a parameter value: the same bug, the same id."""
    again = scan(pg_server, sorted(LATENT), ("sweep",))

    def latent(doc):
        return {f["id"] for f in doc["findings"] if f["kind"] == "latent" and f["operation"] in LATENT.values()}

    assert latent(swept) and latent(swept) == latent(again)


def test_the_clean_scan_classifies_and_lists_every_statement_with_no_latent_warning(clean, tmp_path):
    sql = clean["run"]["sql"]
    assert clean["findings"] == [] and clean["summary"]["ok"]
    assert sql["latent"] == [] and sql["counts"]["statements"] == len(sql["statements"]) > 100
    # Every statement classified: each tenant table it touches predicate or RLS only, nothing unparsed.
    assert {s["verdict"] for s in sql["statements"]} <= {"predicate", "rls-only", "none"}
    assert all(t["verdict"] in ("predicate", "rls-only") for s in sql["statements"] for t in s["tables"])
    # ... and listed: under the endpoints and reports that ran it, every operation and query among them.
    listed = {k for s in sql["subjects"] for k in s["statements"]}
    assert listed == {s["id"] for s in sql["statements"]}
    subjects = {s["subject"]: s for s in sql["subjects"]}
    assert set(clean["run"]["operations"]) - {"POST /api/reports/{name}"} <= set(subjects)
    statements = {s["id"]: s for s in sql["statements"]}
    for query in clean["run"]["queries"]:  # each report's own statement, in the database and through its endpoint
        subject = subjects[f"query {query}"]
        assert set(subject["via"]) == {"database", "POST /api/reports/{name}"}, subject["via"]
        ran = [statements[k] for k in subject["statements"]]
        assert any(s["role"] == "phoenix_reporting" and s["verdict"] == "predicate" for s in ran), query
    assert sum(c["predicate"] for c in sql["tables"].values()) > 100
    assert all(c["unprotected"] == 0 for c in sql["tables"].values())

    paths = {p.name: p for p in write_reports(clean, tmp_path)}
    md = paths["queries.md"].read_text()
    assert md.startswith("# SQL inventory") and "0 latent warnings" in md
    assert all(f"`query {q}`" in md for q in clean["run"]["queries"])
    assert all(s["id"] in md for s in sql["statements"])
    assert 'id="sql"' in paths["index.html"].read_text()


def test_root_causes_reach_every_report(deep, tmp_path):
    """findings.json carries them (the fixture's document), SARIF as a property and related locations,
    the HTML under each finding's evidence."""
    with_cause = [f for f in deep["findings"] if f["root_cause"]]
    assert with_cause
    paths = {p.name: p for p in write_reports(deep, tmp_path)}

    results = json.loads(paths["findings.sarif"].read_text())["runs"][0]["results"]
    by_id = {r["properties"]["id"]: r for r in results}
    for f in with_cause:
        r = by_id[f["id"]]
        assert r["properties"]["rootCause"] == f["root_cause"]
        related = [loc["logicalLocations"][0]["name"] for loc in r["relatedLocations"]]
        assert related == [c["table"] for c in f["root_cause"]]
    page = paths["index.html"].read_text()
    assert page.count("<h4>Root cause in SQL</h4>") == len(with_cause)
    assert "queries.md" in paths
