"""The report catalogue, run directly in the database on the reporting role (as the harness does)."""

from __future__ import annotations

import os

import psycopg
import pytest

from phoenix.reporting import REPORTS, ReportParamError
from phoenix.reporting.engine import UnknownReport, run_report

#: Columns whose values identify one tenant's row (high-entropy ids, numbers, codes, e-mails, titles).
IDENTIFYING = ("id", "email", "number", "code", "reference", "title", "filename")


def principals(dataset) -> list[tuple[str, str, tuple[str, ...]]]:
    """(role, login e-mail, visible tenant ids) for every seeded login."""
    tenants = dataset.tables["tenants"]
    by_slug = {t["slug"]: t for t in tenants}
    out = []
    for login in dataset.logins:
        home = by_slug[login.tenant_slug]
        if login.role == "corporate_admin":
            visible = tuple(t["id"] for t in tenants if t["client_id"] == home["client_id"])
        else:
            visible = (home["id"],)
        out.append((login.role, login.email, visible))
    return out


def identifiers(dataset) -> dict[str, str]:
    """Every identifying value in the seed -> the tenant that owns it."""
    owner = {}
    for table, rows in dataset.tables.items():
        for row in rows:
            if "tenant_id" not in row:
                continue
            for col in IDENTIFYING:
                if col in row:
                    owner[str(row[col])] = row["tenant_id"]
    return owner


@pytest.fixture(scope="module")
def reporting_db(pg_server, phoenix_template):
    """One read-only clone for the whole module: reports never write."""
    from phoenix import install

    name = f"phoenix_rep{os.getpid()}"
    pg_server.create_database(name, template=phoenix_template.name)
    with psycopg.connect(pg_server.dsn(name, install.REPORTING_ROLE, install.REPORTING_PASSWORD),
                         autocommit=True) as conn:
        yield conn, phoenix_template.dataset
    pg_server.drop_database(name)


@pytest.fixture(autouse=True)
def clean_build(monkeypatch):
    monkeypatch.delenv("PHOENIX_FAULTS", raising=False)


def test_catalogue_shape():
    assert len(REPORTS) >= 20
    long = [r.name for r in REPORTS.values() if r.sql.count("\n") > 100]
    assert len(long) >= 3, long
    assert sum(r.cross_tenant for r in REPORTS.values()) >= 2
    assert any("UNION" in r.sql for r in REPORTS.values())
    assert any("LATERAL" in r.sql for r in REPORTS.values())
    assert any(" OVER " in r.sql for r in REPORTS.values())
    for r in REPORTS.values():
        assert "%(tenant_ids)s" in r.sql
        assert r.params_schema()["type"] == "object"
        assert r.validate({}) is not None  # every report runs with its defaults
        if r.cross_tenant:
            assert r.roles == ("corporate_admin",)


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_runs_for_every_allowed_principal_and_stays_in_its_tenants(reporting_db, name):
    conn, dataset = reporting_db
    report = REPORTS[name]
    owner = identifiers(dataset)
    ran = 0
    for role, email, visible in principals(dataset):
        if role not in report.roles:
            continue
        rows = run_report(conn, name, {}, visible)
        assert rows, f"{name} returned no rows for {role} {email}"
        tenant_ids = {r["tenant_id"] for r in rows if "tenant_id" in r}
        assert tenant_ids <= set(visible), f"{name}: foreign tenant_id for {email}"
        foreign = {v for r in rows for v in r.values()
                   if isinstance(v, str) and owner.get(v, visible[0]) not in visible}
        assert not foreign, f"{name}: foreign identifiers for {email}: {sorted(foreign)[:3]}"
        ran += 1
    assert ran


def test_rows_are_json_friendly(reporting_db):
    conn, dataset = reporting_db
    tenant = dataset.tables["tenants"][0]["id"]
    rows = run_report(conn, "revenue_by_month", {"date_from": "2025-01-01", "date_to": "2026-12-31"}, [tenant])
    row = rows[0]
    assert isinstance(row["tenant_id"], str) and isinstance(row["month"], str)
    assert isinstance(row["revenue"], float)
    assert all(row["month"] >= "2025-01-01" for row in rows)


def test_parameters_change_the_result(reporting_db):
    conn, dataset = reporting_db
    tenant = dataset.tables["tenants"][0]["id"]
    everything = run_report(conn, "account_ledger", {}, [tenant])
    one = run_report(conn, "account_ledger", {"limit": 1}, [tenant])
    assert len(one) == 1 < len(everything)
    by_team = run_report(conn, "utilisation", {"group_by": "team", "include_idle": False}, [tenant])
    assert by_team and all(r["hours"] > 0 for r in by_team)


@pytest.mark.parametrize("raw, message", [
    ({"status": "lost"}, "status: 'lost' is not one of"),
    ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from (2026-02-01) must not be after date_to"),
    ({"colour": "red"}, "unknown parameter(s): colour"),
    ({"date_from": "2023-12-31"}, "date_from: 2023-12-31 is outside 2024-01-01..2027-12-31"),
    ({"date_to": "yesterday"}, "date_to: expected an ISO date"),
    ({"currency": "XXX"}, "currency: 'XXX' is not one of EUR, USD, GBP, CHF, JPY"),
])
def test_bad_parameters_get_a_clear_message(raw, message):
    with pytest.raises(ReportParamError) as err:
        REPORTS["revenue_by_month"].validate(raw)
    assert message in str(err.value)


@pytest.mark.parametrize("value", [0, 501, True, "many"])
def test_limit_is_checked(value):
    with pytest.raises(ReportParamError, match="limit"):
        REPORTS["account_ledger"].validate({"limit": value})


def test_defaults_are_applied():
    values = REPORTS["top_customers"].validate({"limit": "5"})
    assert values["limit"] == 5 and values["currency"] is None
    assert str(values["date_from"]) == "2024-01-01"


def test_unknown_report_and_empty_tenant_set(reporting_db):
    conn, dataset = reporting_db
    with pytest.raises(UnknownReport):
        run_report(conn, "no_such_report", {}, [dataset.tables["tenants"][0]["id"]])
    with pytest.raises(ValueError):
        run_report(conn, "revenue_by_month", {}, [])


def test_engine_also_works_on_the_app_role_under_rls(phoenix_db):
    """The engine sets the same tenant context the app does, so it is correct under RLS too."""
    tenant = phoenix_db.dataset.tables["tenants"][0]["id"]
    with psycopg.connect(phoenix_db.app_dsn, autocommit=True) as conn:
        rows = run_report(conn, "task_status_breakdown", {}, [tenant])
    assert rows and {r["tenant_id"] for r in rows} == {tenant}
