"""Phoenix's real SQL, captured while it serves requests, judged by the analyzer.

Clean build: every statement on a tenant table is ``predicate`` or ``rls-only``, and every report
statement (BYPASSRLS role) is ``predicate``. With a SQL-level planted fault switched on, the statement
the fault changed is ``unprotected`` and names the tables it leaks. The catalogue is read from the
clone's pg_catalog, as a scan would.
"""

from __future__ import annotations

import psycopg
import pytest

from harness.sql.analysis import analyze, catalogue
from phoenix.reporting.catalogue import REPORTS
from tests.sql.phoenix_sql import TENANT, serve, tenant_columns

D = "/api/dashboard"
DASHBOARD = ["/customers", "/customers/export", "/projects", "/projects/export", "/tasks", "/invoices",
             "/invoices/export", "/time-entries", "/documents", "/teams", "/users", "/tags", "/notifications",
             "/dashboards", "/kpis/summary", "/activity", "/search?q=Pro"]


def available_or_skip(capture):
    if not capture.available:
        pytest.skip(capture.reason)


def judged(db, served):
    cat = catalogue(db.admin_dsn, tenant_columns())
    return [(s, st, analyze(st.text, cat, st.role)) for s in served for st in s.statements]


def test_catalogue_reads_phoenix_rls_roles_and_keys(phoenix_db):
    with psycopg.connect(phoenix_db.admin_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE documents NO FORCE ROW LEVEL SECURITY")
    cat = catalogue(phoenix_db.admin_dsn, tenant_columns())
    assert set(cat.tables) == set(tenant_columns())
    assert all(t.rls_enabled and t.has_policy and t.owner == "phoenix_owner" for t in cat.tables.values())
    assert [t for t, f in cat.tables.items() if not f.rls_forced] == ["documents"]
    assert not cat.roles["phoenix_app"].bypassrls and cat.roles["phoenix_reporting"].bypassrls
    assert cat.roles["phoenix_worker"].bypassrls and cat.roles["postgres"].superuser
    assert cat.roles["phoenix_owner"].owner_of == frozenset(tenant_columns())
    assert cat.rls_binds("projects", "phoenix_app") == (True, "RLS binds phoenix_app on projects")
    assert cat.rls_binds("projects", "phoenix_reporting")[0] is False
    assert cat.rls_binds("documents", "phoenix_owner") == (False, "phoenix_owner owns documents and RLS is not forced")
    assert cat.rls_binds("projects", "phoenix_owner")[0] is True  # forced
    assert cat.foreign_key("tasks", "project_id", "projects", "id") is not None
    assert cat.columns["projects"][:2] == ("id", "tenant_id")
    assert "phoenix_current_tenants" in cat.context_functions  # its SQL body reads current_setting


def test_clean_phoenix_sql_is_always_predicate_or_rls(pg_server, phoenix_db):
    requests = [("admin", "GET", D + p, None) for p in DASHBOARD]
    requests += [("corporate_admin", "GET", D + "/customers", None), ("user", "GET", D + "/projects", None)]
    requests += [("corporate_admin", "POST", f"/api/reports/{name}", {}) for name in REPORTS]
    requests += [("admin", "POST", "/api/reports/task_status_breakdown", {"group_by": "assignee"})]
    capture, served = serve(pg_server, phoenix_db, requests)
    available_or_skip(capture)
    assert [(s.path, s.status) for s in served if s.status != 200] == []
    results = judged(phoenix_db, served)
    on_tables = [(s, st, a) for s, st, a in results if a.verdict != "none"]
    assert [(s.path, a.error) for s, st, a in results if a.verdict in ("unparsed", "error")] == []
    bad = [(s.path, st.role, [(t.alias, t.why) for t in a.unprotected]) for s, st, a in on_tables
           if a.verdict == "unprotected"]
    assert bad == []
    # no vacuous pass: every request ran SQL on tenant tables, and every report on the BYPASSRLS role
    assert {s.path for s, _, _ in on_tables} == {s.path for s in served}
    reports = [(s.path, a) for s, st, a in on_tables if st.role == "phoenix_reporting"]
    assert {p for p, _ in reports} == {f"/api/reports/{n}" for n in REPORTS}
    assert [(p, a.verdict) for p, a in reports if a.verdict != "predicate"] == []
    assert sum(len(a.tables) for _, _, a in on_tables) > 100  # table accesses judged (149 today)


def foreign_invoice(db) -> str:
    home = next(t["id"] for t in db.dataset.tables["tenants"] if t["slug"] == TENANT)
    client = next(t["client_id"] for t in db.dataset.tables["tenants"] if t["id"] == home)
    strangers = {t["id"] for t in db.dataset.tables["tenants"] if t["client_id"] != client}
    return next(i["id"] for i in db.dataset.tables["invoices"] if i["tenant_id"] in strangers)


#: fault -> (role, method, path, body, tables the faulty statement leaks)
SQL_FAULTS = {
    "idor-get": ("user", "GET", D + "/invoices/{foreign_invoice}", None, {"invoices"}),
    "list-unfiltered": ("user", "GET", D + "/customers", None, {"customers"}),
    "search-cross-tenant": ("user", "GET", D + "/search?q=Pro", None, {"projects", "tasks", "customers", "invoices"}),
    "report-union-branch-unfiltered": ("admin", "POST", "/api/reports/account_ledger", {}, {"payments", "invoices"}),
    "report-join-missing-tenant": ("user", "POST", "/api/reports/tag_usage", {}, {"tags", "task_tags", "tasks"}),
    "report-idle-assignees-unfiltered": ("user", "POST", "/api/reports/task_status_breakdown",
                                         {"group_by": "assignee"}, {"users"}),
    "report-share-denominator-all-tenants": ("admin", "POST", "/api/reports/top_customers", {}, {"invoices"}),
}


@pytest.mark.parametrize("fault", sorted(SQL_FAULTS))
def test_planted_sql_fault_is_unprotected_and_names_its_tables(pg_server, phoenix_db, fault):
    role, method, path, body, leaked = SQL_FAULTS[fault]
    path = path.format(foreign_invoice=foreign_invoice(phoenix_db))
    capture, [served] = serve(pg_server, phoenix_db, [(role, method, path, body)], faults=fault)
    available_or_skip(capture)
    assert served.status == 200
    results = judged(phoenix_db, [served])
    faulty = [(st, a) for _, st, a in results if a.verdict == "unprotected"]
    assert len(faulty) >= 1, [(st.text[:80], a.verdict) for _, st, a in results]
    assert {st.role for st, _ in faulty} == {"phoenix_reporting"}  # the BYPASSRLS side door
    assert {t.table for _, a in faulty for t in a.unprotected} == leaked
    for _, a in faulty:
        for t in a.unprotected:
            assert f"no condition limits {t.alias}.tenant_id" in t.why and "phoenix_reporting has BYPASSRLS" in t.why

    _, [clean] = serve(pg_server, phoenix_db, [(role, method, path, body)])
    assert [a.verdict for _, _, a in judged(phoenix_db, [clean]) if a.verdict == "unprotected"] == []


def test_a_fault_that_leans_on_rls_is_rls_only(pg_server, phoenix_db):
    """pooled-context-leak drops the feed's tenant predicate on the app role: only RLS is left."""
    request = ("user", "GET", f"{D}/activity", None)
    capture, [faulty] = serve(pg_server, phoenix_db, [request], faults="pooled-context-leak")
    available_or_skip(capture)
    _, [clean] = serve(pg_server, phoenix_db, [request])
    assert faulty.status == clean.status == 200

    def verdicts(served):
        return {(st.role, t.verdict, t.rule) for _, st, a in judged(phoenix_db, [served])
                for t in a.tables if t.table == "audit_events"}

    assert verdicts(faulty) == {("phoenix_app", "rls-only", "")}
    assert verdicts(clean) == {("phoenix_app", "predicate", "direct-any")}


def test_the_table_owner_without_force_is_unprotected(pg_server, phoenix_db):
    """rls-not-forced: the documents list runs as the table owner, and FORCE is off (as that fault installs)."""
    with psycopg.connect(phoenix_db.admin_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE documents NO FORCE ROW LEVEL SECURITY")
    capture, [served] = serve(pg_server, phoenix_db, [("user", "GET", f"{D}/documents", None)], faults="rls-not-forced")
    available_or_skip(capture)
    faulty = [(st.role, t) for _, st, a in judged(phoenix_db, [served]) for t in a.unprotected]
    assert {(role, t.table) for role, t in faulty} == {("phoenix_owner", "documents")}
    assert all("phoenix_owner owns documents and RLS is not forced" in t.why for _, t in faulty)
