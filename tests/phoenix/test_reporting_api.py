"""The reports router over HTTP, on the real reporting pool (principal injected, auth is not under test)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from phoenix.db import Database
from phoenix.deps import get_db, get_principal
from phoenix.reporting import REPORTS
from phoenix.reporting.api import router
from phoenix.tenancy import Principal


def principal_for(dataset, role: str) -> Principal:
    tenants = dataset.tables["tenants"]
    home = tenants[0]
    visible = (tuple(t["id"] for t in tenants if t["client_id"] == home["client_id"])
               if role == "corporate_admin" else (home["id"],))
    user = next(u for u in dataset.tables["users"] if u["tenant_id"] == home["id"] and u["role"] == role)
    return Principal(user["id"], home["id"], home["client_id"], role, visible)


def call(phoenix_db, role: str, requests: list[tuple[str, str, object]]) -> list[httpx.Response]:
    principal = principal_for(phoenix_db.dataset, role)
    db = Database(phoenix_db.app_dsn, reporting_dsn=phoenix_db.reporting_dsn, pool_size=1)
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_principal] = lambda: principal
    app.dependency_overrides[get_db] = lambda: db

    async def go():
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                out = []
                for method, url, body in requests:
                    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
                    out.append(await client.request(method, url, **kwargs))
                return out
        finally:
            await db.close()

    return asyncio.run(go())


def test_list_shows_only_what_the_role_may_run(phoenix_db):
    [user] = call(phoenix_db, "user", [("GET", "/api/reports", None)])
    [corp] = call(phoenix_db, "corporate_admin", [("GET", "/api/reports", None)])
    assert user.status_code == corp.status_code == 200
    user_names = {r["name"] for r in user.json()}
    assert user_names == {n for n, r in REPORTS.items() if "user" in r.roles}
    assert {r["name"] for r in corp.json()} == set(REPORTS)
    entry = next(r for r in corp.json() if r["name"] == "subsidiary_comparison")
    assert entry["cross_tenant"] and entry["params_schema"]["properties"]["report_currency"]


def test_run_report_200_404_403_422(phoenix_db):
    responses = call(phoenix_db, "admin", [
        ("POST", "/api/reports/revenue_by_month", {"date_from": "2025-01-01", "status": "paid"}),
        ("POST", "/api/reports/top_customers", ""),
        ("POST", "/api/reports/no_such_report", {}),
        ("POST", "/api/reports/subsidiary_comparison", {}),
        ("POST", "/api/reports/revenue_by_month", {"status": "lost"}),
        ("POST", "/api/reports/revenue_by_month", {"date_from": "2026-01-02", "date_to": "2026-01-01"}),
        ("POST", "/api/reports/account_ledger", {"limit": 501}),
        ("POST", "/api/reports/account_ledger", {"colour": "red"}),
        ("POST", "/api/reports/account_ledger", "[1, 2]"),
    ])
    ok, empty_body, missing, forbidden, *bad = responses
    assert ok.status_code == 200, ok.text
    body = ok.json()
    home = phoenix_db.dataset.tables["tenants"][0]["id"]
    assert body["report"] == "revenue_by_month" and body["row_count"] == len(body["rows"]) > 0
    assert {r["tenant_id"] for r in body["rows"]} == {home}
    assert empty_body.status_code == 200 and empty_body.json()["row_count"] > 0
    assert missing.status_code == 404
    assert forbidden.status_code == 403
    assert [r.status_code for r in bad] == [422] * 5
    messages = [r.json()["detail"] for r in bad]
    assert "status: 'lost' is not one of" in messages[0]
    assert "must not be after date_to" in messages[1]
    assert "limit: 501 is outside 1..500" in messages[2]
    assert "unknown parameter(s): colour" in messages[3]
    assert "JSON object" in messages[4]


def test_corporate_admin_runs_a_roll_up_over_its_subsidiaries(phoenix_db):
    [resp] = call(phoenix_db, "corporate_admin", [("POST", "/api/reports/subsidiary_comparison", {})])
    assert resp.status_code == 200
    principal = principal_for(phoenix_db.dataset, "corporate_admin")
    assert {r["tenant_id"] for r in resp.json()["rows"]} == set(principal.visible_tenants)


def test_openapi_describes_every_report_body():
    app = FastAPI()
    app.include_router(router)
    op = app.openapi()["paths"]["/api/reports/{name}"]["post"]
    schemas = op["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert len(schemas) == len(REPORTS)
    assert set(op["x-report-params"]) == set(REPORTS)
    name_param = next(p for p in op["parameters"] if p["name"] == "name")
    assert name_param["schema"]["enum"] == list(REPORTS)
