"""Roles and tenant boundaries through the API: 401, 403 for roles, 404 for other tenants' objects."""

from __future__ import annotations

from phoenix_client import TENANT_A, TENANT_B, TENANT_X, rows_of, running, tenant_id

D = "/api/dashboard"


def test_authentication_is_required_and_checked(phoenix_db, monkeypatch):
    with running(phoenix_db, monkeypatch) as api:
        assert api.client.get(f"{D}/projects").status_code == 401
        bad = api.client.get(f"{D}/projects", headers={"Authorization": "Bearer forged.token"})
        assert bad.status_code == 401 and bad.json() == {"detail": "not authenticated"}
        login = phoenix_db.dataset.logins[0]
        r = api.client.post("/api/auth/login", json={"email": login.email, "password": "wrong"})
        assert r.status_code == 401
        r = api.client.post("/api/auth/login", json={"email": login.email, "password": login.password})
        assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] > 0


def test_user_cannot_manage_and_corporate_admin_cannot_write(phoenix_db, monkeypatch):
    project = rows_of(phoenix_db, "projects", TENANT_A)[0]["id"]
    task = rows_of(phoenix_db, "tasks", TENANT_A)[0]["id"]
    with running(phoenix_db, monkeypatch) as api:
        for method, path, body in [("POST", "/customers", {"name": "x", "email": "a@b.example", "country_code": "DE"}),
                                   ("DELETE", f"/projects/{project}", None),
                                   ("POST", "/tasks/bulk-update", {"ids": [task], "status": "done"}),
                                   ("GET", "/invoices/export", None)]:
            assert api.call(method, D + path, role="user", json=body).status_code == 403, path
        for method, path, body in [("PATCH", f"/tasks/{task}", {"status": "done"}),
                                   ("POST", f"/tasks/{task}/comments", {"body": "hi"}),
                                   ("POST", "/dashboards", {"name": "d"})]:
            r = api.call(method, D + path, role="corporate_admin", json=body)
            assert r.status_code == 403 and isinstance(r.json()["detail"], str), path
        assert api.get(f"{D}/invoices/export", role="corporate_admin").status_code == 200


def test_corporate_admin_reads_its_subsidiaries_and_nothing_of_the_other_client(phoenix_db, monkeypatch):
    db = phoenix_db
    own_client = {tenant_id(db, s) for s in ("techcorp-east", "techcorp-west", "techcorp-north")}
    foreign_project = rows_of(db, "projects", TENANT_X)[0]["id"]
    sibling_project = rows_of(db, "projects", TENANT_B)[0]["id"]
    with running(db, monkeypatch) as api:
        seen = {p["tenant_id"] for p in api.get(f"{D}/projects", role="corporate_admin",
                                                params={"limit": 100}).json()["items"]}
        assert seen == own_client
        kpis = api.get(f"{D}/kpis/summary", role="corporate_admin").json()
        assert {t["tenant_id"] for t in kpis["tenants"]} == own_client
        assert api.get(f"{D}/projects/{sibling_project}", role="corporate_admin").status_code == 200
        assert api.get(f"{D}/projects/{foreign_project}", role="corporate_admin").status_code == 404
        hits = api.get(f"{D}/search", role="corporate_admin", params={"q": "PRJ", "limit": 100}).json()
        assert {h["tenant_id"] for h in hits["items"]} <= own_client
        # The tenant switcher narrows to a subsidiary; another client's tenant does not exist.
        narrowed = api.get(f"{D}/projects", role="corporate_admin", headers={"X-Tenant-ID": tenant_id(db, TENANT_B)})
        assert {p["tenant_id"] for p in narrowed.json()["items"]} == {tenant_id(db, TENANT_B)}
        assert api.get(f"{D}/projects", role="corporate_admin",
                       headers={"X-Tenant-ID": tenant_id(db, TENANT_X)}).status_code == 404


def test_foreign_ids_are_404_everywhere_for_a_subsidiary_user(phoenix_db, monkeypatch):
    db = phoenix_db
    mine = rows_of(db, "projects", TENANT_A)[0]["id"]
    sibling = {t: rows_of(db, t, TENANT_B)[0]["id"] for t in ("projects", "tasks", "invoices", "customers",
                                                              "documents", "dashboards", "time_entries")}
    with running(db, monkeypatch) as api:
        for path in [f"/projects/{sibling['projects']}", f"/projects/{sibling['projects']}/summary",
                     f"/projects/{mine}/tasks/{sibling['tasks']}", f"/invoices/{sibling['invoices']}",
                     f"/invoices/{sibling['invoices']}/lines", f"/customers/{sibling['customers']}",
                     f"/documents/{sibling['documents']}", f"/dashboards/{sibling['dashboards']}/widgets",
                     f"/tasks/{sibling['tasks']}/comments", f"/projects/batch?ids={mine},{sibling['projects']}"]:
            assert api.get(D + path, role="user").status_code == 404, path
        for method, path, body in [
                ("PATCH", f"/tasks/{sibling['tasks']}", {"status": "done"}),
                ("DELETE", f"/time-entries/{sibling['time_entries']}", None),
                ("POST", f"/projects/{mine}/tasks", {"title": "t", "assignee_id": rows_of(db, "users", TENANT_B)[0]["id"]}),
                ("POST", "/time-entries", {"project_id": sibling["projects"], "spent_on": "2026-01-01", "hours": 1}),
                ("POST", "/projects", {"code": "X-1", "name": "x", "starts_on": "2026-01-01",
                                       "customer_id": sibling["customers"]}),
                ("POST", "/tasks/bulk-update", {"ids": [sibling["tasks"]], "status": "done"})]:
            r = api.call(method, D + path, role="admin", json=body)
            assert r.status_code == 404, (path, r.text)
        assert api.get(f"{D}/projects", role="user", headers={"X-Tenant-ID": tenant_id(db, TENANT_B)}).status_code == 404


def test_clean_build_rejects_tenant_id_in_bodies(phoenix_db, monkeypatch):
    with running(phoenix_db, monkeypatch) as api:
        r = api.call("POST", f"{D}/customers", json={"name": "x", "email": "a@b.example", "country_code": "DE",
                                                     "tenant_id": tenant_id(phoenix_db, TENANT_B)})
        assert r.status_code == 422 and isinstance(r.json()["detail"], str)
