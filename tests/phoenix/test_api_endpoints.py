"""Every one of the 47 dashboard operations answers 2xx for its own tenant and an allowed role."""

from __future__ import annotations

import re

from phoenix_client import TENANT_A, rows_of, running, sql, tenant_id

from phoenix.api.roles import ROLE_RULES

D = "/api/dashboard"


def _operations(app) -> set[str]:
    spec = app.openapi()
    return {f"{m.upper()} {p}" for p, item in spec["paths"].items() if p.startswith(f"{D}/") for m in item}


def test_openapi_has_exactly_47_dashboard_operations_all_in_the_role_table(phoenix_db, monkeypatch):
    with running(phoenix_db, monkeypatch) as api:
        ops = _operations(api.client.app)
        spec = api.client.app.openapi()
    assert len(ops) == 47
    assert ops == set(ROLE_RULES)
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": "Token from POST /api/auth/login"}
    for path, item in spec["paths"].items():
        for param in re.findall(r"{(\w+)}", path) if path.startswith(D) else ():
            schema = next(p["schema"] for m in item.values() for p in m["parameters"] if p["name"] == param)
            assert param.endswith("_id") and schema["format"] == "uuid", (path, param)
        for method, op in item.items():
            if path.startswith(D):
                assert {"401", "403", "404", "422"} <= set(op["responses"]), (method, path)


def test_every_operation_succeeds_for_an_allowed_role(phoenix_db, monkeypatch):
    db = phoenix_db
    called: set[str] = set()
    mine = tenant_id(db, TENANT_A)
    projects = rows_of(db, "projects", TENANT_A)
    tasks = rows_of(db, "tasks", TENANT_A)
    invoices = rows_of(db, "invoices", TENANT_A)
    documents = rows_of(db, "documents", TENANT_A)
    customers = rows_of(db, "customers", TENANT_A)
    user_login = next(l for l in db.dataset.logins if l.role == "user" and l.tenant_slug == TENANT_A)
    user_id = next(u["id"] for u in db.dataset.tables["users"] if u["email"] == user_login.email)
    notification_id = "6d3f0c1e-0000-4000-8000-000000000001"
    sql(db, "INSERT INTO notifications (id, tenant_id, user_id, kind, message) VALUES (%s, %s, %s, 'system', 'hi') "
            "RETURNING id", [notification_id, mine, user_id])

    with running(db, monkeypatch) as api:
        def call(method: str, template: str, role: str = "admin", expect: int = 200, **kw):
            path = D + template.format(**kw.pop("ids", {}))
            r = api.call(method, path, role=role, **kw)
            assert r.status_code == expect, (method, template, r.status_code, r.text[:500])
            assert role in ROLE_RULES[f"{method} {D}{template.split('?')[0]}"]
            called.add(f"{method} {D}{template.split('?')[0]}")
            if r.headers.get("content-type", "").startswith("application/json") and r.content:
                body = r.json()
                for row in body.get("items", []) if isinstance(body, dict) else []:
                    assert row["tenant_id"] == mine, (template, row)
            return r

        # customers
        page = call("GET", "/customers", role="user", params={"q": "a", "sort": "email", "order": "desc"}).json()
        assert page["total"] >= len(page["items"]) > 0
        r = call("GET", "/customers/export")
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"] == 'attachment; filename="customers.csv"'
        r = call("POST", "/customers", expect=201, json={"name": "Acme", "email": "ops@acme.example",
                                                        "country_code": "DE"})
        cid = r.json()["id"]
        assert r.headers["location"] == f"{D}/customers/{cid}" and r.json()["tenant_id"] == mine
        call("GET", "/customers/{customer_id}", role="user", ids={"customer_id": cid})
        assert call("PATCH", "/customers/{customer_id}", ids={"customer_id": cid},
                    json={"segment": "enterprise"}).json()["segment"] == "enterprise"
        call("DELETE", "/customers/{customer_id}", expect=204, ids={"customer_id": cid})

        # projects
        page = call("GET", "/projects", role="user", params={"limit": 2}).json()
        assert page["next_cursor"] and len(page["items"]) == 2
        nxt = call("GET", "/projects", role="user", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        assert not {p["id"] for p in nxt["items"]} & {p["id"] for p in page["items"]}
        ids = ",".join(p["id"] for p in projects[:3])
        assert len(call("GET", "/projects/batch", params={"ids": ids}).json()["items"]) == 3
        call("GET", "/projects/export")
        r = call("POST", "/projects", expect=201, json={
            "code": "NEW-1", "name": "New", "starts_on": "2026-01-01", "customer_id": customers[0]["id"],
            "budget": 1000})
        pid = r.json()["id"]
        call("GET", "/projects/{project_id}", role="user", ids={"project_id": pid})
        call("PATCH", "/projects/{project_id}", ids={"project_id": pid}, json={"status": "active"})
        summary = call("GET", "/projects/{project_id}/summary", role="user",
                       ids={"project_id": projects[0]["id"]}).json()
        assert summary["tasks_total"] == 4 and summary["tenant_id"] == mine

        # tasks and comments
        p0 = {"project_id": projects[0]["id"]}
        assert call("GET", "/projects/{project_id}/tasks", role="user", ids=p0).json()["total"] == 4
        r = call("POST", "/projects/{project_id}/tasks", role="user", expect=201, ids=p0,
                 json={"title": "Write tests", "priority": 1, "assignee_id": user_id})
        tid = r.json()["id"]
        call("GET", "/projects/{project_id}/tasks/{task_id}", role="user", ids={**p0, "task_id": tid})
        call("GET", "/tasks", role="user", params={"status": "todo", "limit": 5})
        bulk = call("POST", "/tasks/bulk-update", json={"ids": [tid, tasks[0]["id"]], "status": "review"}).json()
        assert bulk["updated"] == 2
        call("PATCH", "/tasks/{task_id}", role="user", ids={"task_id": tid}, json={"status": "done"})
        call("POST", "/tasks/{task_id}/comments", role="user", expect=201, ids={"task_id": tid},
             json={"body": "looks good"})
        assert call("GET", "/tasks/{task_id}/comments", role="user", ids={"task_id": tid}).json()["total"] == 1
        call("DELETE", "/tasks/{task_id}", expect=204, ids={"task_id": tid})
        call("DELETE", "/projects/{project_id}", expect=204, ids={"project_id": pid})

        # billing
        call("GET", "/invoices", role="user", params={"sort": "total"})
        assert "INV-" in call("GET", "/invoices/export").text
        r = call("POST", "/invoices", expect=201, json={
            "customer_id": customers[0]["id"], "number": "INV-NEW-1", "issued_on": "2026-02-01",
            "due_on": "2026-03-01", "lines": [{"description": "Work", "quantity": 2, "unit_price": 50.5}]})
        iid = r.json()["id"]
        assert r.json()["total"] == 101.0
        call("GET", "/invoices/{invoice_id}", role="user", ids={"invoice_id": invoices[0]["id"]})
        call("PATCH", "/invoices/{invoice_id}", ids={"invoice_id": iid}, json={"status": "sent"})
        assert call("GET", "/invoices/{invoice_id}/lines", role="user", ids={"invoice_id": iid}).json()["total"] == 1

        # time, documents, directory
        call("GET", "/time-entries", role="user", params={"billable": "true"})
        r = call("POST", "/time-entries", role="user", expect=201, json={
            "project_id": tasks[0]["project_id"], "task_id": tasks[0]["id"], "spent_on": "2026-01-05",
            "hours": 1.5})
        call("DELETE", "/time-entries/{time_entry_id}", role="user", expect=204, ids={"time_entry_id": r.json()["id"]})
        assert call("GET", "/documents", role="user").json()["total"] == len(documents)
        call("GET", "/documents/{document_id}", role="user", ids={"document_id": documents[0]["id"]})
        call("GET", "/teams", role="user")
        call("GET", "/users", role="user", params={"role": "admin"})
        call("GET", "/tags", role="user")
        call("POST", "/tags", expect=201, json={"name": "brand-new"})

        # inbox, dashboards
        assert call("GET", "/notifications", role="user", params={"unread": "true"}).json()["total"] >= 1
        read = call("POST", "/notifications/{notification_id}/read", role="user",
                    ids={"notification_id": notification_id}).json()
        assert read["read_at"] is not None
        call("GET", "/dashboards", role="user")
        r = call("POST", "/dashboards", role="user", expect=201, json={"name": "Mine"})
        did = {"dashboard_id": r.json()["id"]}
        call("POST", "/dashboards/{dashboard_id}/widgets", role="user", expect=201, ids=did,
             json={"kind": "kpi", "title": "Open tasks"})
        assert call("GET", "/dashboards/{dashboard_id}/widgets", role="user", ids=did).json()["total"] == 1

        # insights
        kpis = call("GET", "/kpis/summary", role="user").json()
        assert [t["tenant_id"] for t in kpis["tenants"]] == [mine]
        feed = call("GET", "/activity", role="user", params={"limit": 3}).json()
        assert feed["next_cursor"] and len(feed["items"]) == 3
        hits = call("GET", "/search", role="user", params={"q": "PRJ", "types": ["project"]}).json()
        assert hits["total"] == len(projects) and {h["type"] for h in hits["items"]} == {"project"}

        assert called == _operations(api.client.app)
