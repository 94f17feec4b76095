"""Each planted report fault really leaks on the reporting role, and only when switched on."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from phoenix.faults import REGISTRY, parse
from phoenix.reporting.engine import run_report

REPORT_FAULTS = {
    "report-join-missing-tenant": "tag_usage",
    "report-aggregate-all-tenants": "finance_kpis",
    "report-union-branch-unfiltered": "account_ledger",
    "report-share-denominator-all-tenants": "top_customers",
    "report-idle-assignees-unfiltered": "task_status_breakdown",
}


def victim_and_stranger(dataset) -> tuple[dict, dict]:
    """The first tenant, and a tenant of another client."""
    tenants = dataset.tables["tenants"]
    victim = tenants[0]
    stranger = next(t for t in tenants if t["client_id"] != victim["client_id"])
    return victim, stranger


def owned_identifiers(dataset, tenant_id: str) -> set[str]:
    return {str(row[c]) for rows in dataset.tables.values() for row in rows
            if row.get("tenant_id") == tenant_id for c in ("id", "number", "reference", "title") if c in row}


def foreign_values(rows: list[dict], dataset, tenant_id: str) -> set[str]:
    """Values in ``rows`` that identify another tenant's row (ids, numbers, references, titles)."""
    mine = owned_identifiers(dataset, tenant_id)
    everyone = {str(row[c]) for rows_ in dataset.tables.values() for row in rows_
                if "tenant_id" in row for c in ("id", "number", "reference", "title") if c in row}
    values = {v for r in rows for v in r.values() if isinstance(v, str)}
    return (values & everyone) - mine


def run(dsn: str, name: str, tenant_id: str, params: dict | None = None) -> list[dict]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return run_report(conn, name, params or {}, [tenant_id])


def test_report_faults_are_registered_for_their_reports():
    assert set(REPORT_FAULTS) <= set(parse("all"))
    for fault, report in REPORT_FAULTS.items():
        assert f"report:{report}" in REGISTRY[fault].affects
        assert "POST /api/reports/{name}" in REGISTRY[fault].affects
    assert REGISTRY["report-aggregate-all-tenants"].cls == "report-aggregate"
    assert REGISTRY["report-share-denominator-all-tenants"].cls == "report-aggregate"
    assert REGISTRY["report-join-missing-tenant"].cls == "report-join"
    assert REGISTRY["report-union-branch-unfiltered"].cls == "report-union"
    assert REGISTRY["report-idle-assignees-unfiltered"].cls == "report-branch"


@pytest.mark.parametrize("fault", ["report-join-missing-tenant", "report-union-branch-unfiltered"])
def test_row_leaking_faults_show_foreign_rows_only_when_on(phoenix_db, monkeypatch, fault):
    victim, _ = victim_and_stranger(phoenix_db.dataset)
    report = REPORT_FAULTS[fault]

    monkeypatch.delenv("PHOENIX_FAULTS", raising=False)
    clean = run(phoenix_db.reporting_dsn, report, victim["id"])
    assert {r["tenant_id"] for r in clean} == {victim["id"]}
    assert not foreign_values(clean, phoenix_db.dataset, victim["id"])

    monkeypatch.setenv("PHOENIX_FAULTS", fault)
    leaky = run(phoenix_db.reporting_dsn, report, victim["id"])
    assert foreign_values(leaky, phoenix_db.dataset, victim["id"]), f"{fault}: no foreign data"
    if fault == "report-union-branch-unfiltered":
        assert {r["tenant_id"] for r in leaky} - {victim["id"]}, "foreign payments carry their tenant_id"


def _add_foreign_overdue_invoice(admin_dsn: str, dataset, stranger: dict) -> None:
    customer = next(c for c in dataset.tables["customers"] if c["tenant_id"] == stranger["id"])
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO invoices (id, tenant_id, customer_id, number, status, currency_code, issued_on, due_on, total)"
            " VALUES (%s, %s, %s, 'INV-FOREIGN-1', 'overdue', %s, %s, %s, 98765.43)",
            [str(uuid.uuid4()), stranger["id"], customer["id"], stranger["currency_code"],
             dt.date(2025, 2, 1), dt.date(2025, 3, 1)])


def _move_foreign_revenue_into_victims_currency(admin_dsn: str, dataset, victim: dict, stranger: dict) -> None:
    invoice = next(i for i in dataset.tables["invoices"] if i["tenant_id"] == stranger["id"])
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("UPDATE invoices SET status = 'paid', currency_code = %s, total = total + 500000,"
                     " issued_on = '2025-06-01' WHERE id = %s", [victim["currency_code"], invoice["id"]])


@pytest.mark.parametrize("on", [True, False], ids=["fault-on", "fault-off"])
@pytest.mark.parametrize("fault", ["report-aggregate-all-tenants", "report-share-denominator-all-tenants"])
def test_aggregate_faults_move_with_foreign_data_only_when_on(phoenix_db, monkeypatch, fault, on):
    """Only numbers leak: no foreign row or id ever appears, but the figures follow other tenants' data."""
    dataset = phoenix_db.dataset
    victim, stranger = victim_and_stranger(dataset)
    report = REPORT_FAULTS[fault]
    if on:
        monkeypatch.setenv("PHOENIX_FAULTS", fault)
    else:
        monkeypatch.delenv("PHOENIX_FAULTS", raising=False)

    before = run(phoenix_db.reporting_dsn, report, victim["id"])
    if fault == "report-aggregate-all-tenants":
        _add_foreign_overdue_invoice(phoenix_db.admin_dsn, dataset, stranger)
    else:
        _move_foreign_revenue_into_victims_currency(phoenix_db.admin_dsn, dataset, victim, stranger)
    after = run(phoenix_db.reporting_dsn, report, victim["id"])

    for rows in (before, after):
        assert {r["tenant_id"] for r in rows} == {victim["id"]}
        assert not foreign_values(rows, dataset, victim["id"])
    if on:
        assert after != before, f"{fault}: the victim's figures ignore the foreign change"
    else:
        assert after == before


def test_branch_fault_leaks_on_its_enum_value_only(phoenix_db, monkeypatch):
    """group_by=assignee takes the idle-people branch; the default (project) never does."""
    dataset = phoenix_db.dataset
    victim, _ = victim_and_stranger(dataset)
    by_assignee = {"group_by": "assignee"}

    monkeypatch.delenv("PHOENIX_FAULTS", raising=False)
    clean = run(phoenix_db.reporting_dsn, "task_status_breakdown", victim["id"], by_assignee)
    assert {r["tenant_id"] for r in clean} == {victim["id"]}
    assert not foreign_values(clean, dataset, victim["id"])
    clean_default = run(phoenix_db.reporting_dsn, "task_status_breakdown", victim["id"])

    monkeypatch.setenv("PHOENIX_FAULTS", "report-idle-assignees-unfiltered")
    assert run(phoenix_db.reporting_dsn, "task_status_breakdown", victim["id"]) == clean_default
    leaky = run(phoenix_db.reporting_dsn, "task_status_breakdown", victim["id"], by_assignee)
    assert foreign_values(leaky, dataset, victim["id"]), "no foreign people in the assignee breakdown"
    assert {r["tenant_id"] for r in leaky} - {victim["id"]}
