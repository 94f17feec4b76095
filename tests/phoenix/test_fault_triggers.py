"""The features the newer planted faults live in are right in the clean build, and each of those faults
is confined to its trigger (one enum value, later pages, one header, one status, a foreign reference).

The leak itself is proven in test_faults_api.py / test_faults_reports.py; here the clean behaviour a real
client relies on is pinned down, so a fault is the only difference between the two builds.
"""

from __future__ import annotations

import csv
import io
import uuid

from phoenix_client import TENANT_A, TENANT_B, TENANT_X, rows_of, running, sql, tenant_id

D = "/api/dashboard"
TRIGGERED = ("system-notices-all-tenants,time-entries-later-pages-unfiltered,export-total-header-all-tenants,"
             "invoice-project-reference-unchecked")


def user_id(db, role: str = "user", tenant: str = TENANT_A) -> str:
    login = next(l for l in db.dataset.logins if l.role == role and l.tenant_slug == tenant)
    return next(u["id"] for u in db.dataset.tables["users"] if u["email"] == login.email)


def client_tenants(db, slug: str = TENANT_A) -> set[str]:
    home = next(t for t in db.dataset.tables["tenants"] if t["slug"] == slug)
    return {t["id"] for t in db.dataset.tables["tenants"] if t["client_id"] == home["client_id"]}


def notifications_by_kind(api) -> dict[str, list[str]]:
    out = {}
    for kind in ("mention", "assignment", "invoice", "system"):
        r = api.get(f"{D}/notifications", role="user", params={"kind": kind, "limit": 100})
        assert r.status_code == 200, r.text
        out[kind] = sorted(n["id"] for n in r.json()["items"])
    return out


def time_entry_pages(api, **params) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        body = api.get(f"{D}/time-entries", role="user", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_clean_features_are_right_and_tenant_safe(phoenix_db, monkeypatch):
    db = phoenix_db
    me, mine = user_id(db), tenant_id(db, TENANT_A)
    with running(db, monkeypatch) as api:
        # notifications: every kind is mine only
        expected = {k: sorted(n["id"] for n in db.dataset.tables["notifications"]
                              if n["user_id"] == me and n["kind"] == k)
                    for k in ("mention", "assignment", "invoice", "system")}
        assert notifications_by_kind(api) == expected and sum(map(len, expected.values())) > 0

        # time entries: at most 10 a page, more than one page per tenant, next_cursor walks them all
        pages = time_entry_pages(api)
        assert len(pages) >= 2 and all(0 < len(p) <= 10 for p in pages)
        seen = [e["id"] for p in pages for e in p]
        assert sorted(seen) == sorted(e["id"] for e in rows_of(db, "time_entries", TENANT_A))
        assert api.get(f"{D}/time-entries", role="user", params={"limit": 11}).status_code == 422

        # exports: X-Total-Count is the number of matching rows in my tenants
        for path, table, params in [("/customers/export", "customers", {}),
                                    ("/customers/export", "customers", {"segment": "enterprise"}),
                                    ("/projects/export", "projects", {}), ("/invoices/export", "invoices", {})]:
            r = api.get(D + path, params=params)
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert {row["tenant_id"] for row in rows} <= {mine}
            expected_rows = [x for x in rows_of(db, table, TENANT_A) if all(x[k] == v for k, v in params.items())]
            assert int(r.headers["X-Total-Count"]) == len(rows) == len(expected_rows), path
        corp = api.get(f"{D}/customers/export", role="corporate_admin")
        assert int(corp.headers["X-Total-Count"]) == sum(
            1 for c in db.dataset.tables["customers"] if c["tenant_id"] in client_tenants(db))

        # documents: another tenant's document and an id that exists nowhere are the same 404
        elsewhere = api.get(f"{D}/documents/{rows_of(db, 'documents', TENANT_B)[0]['id']}", role="user")
        nowhere = api.get(f"{D}/documents/{uuid.uuid4()}", role="user")
        assert elsewhere.status_code == nowhere.status_code == 404
        assert elsewhere.json() == nowhere.json() == {"detail": "document not found"}

        # project codes are unique per tenant: another tenant's code is free, my own is taken
        theirs = rows_of(db, "projects", TENANT_X)[0]["code"]
        body = {"code": theirs, "name": "Ours", "starts_on": "2026-01-01"}
        created = api.call("POST", f"{D}/projects", json=body)
        assert created.status_code == 201 and created.json()["tenant_id"] == mine
        again = api.call("POST", f"{D}/projects", json=body)
        assert again.status_code == 409 and again.json() == {"detail": "a project with this code already exists"}
        own = rows_of(db, "projects", TENANT_A)[0]["code"]
        assert api.call("POST", f"{D}/projects", json={**body, "code": own}).status_code == 409

        # invoice references: a foreign project is answered like an unknown one, mine is accepted
        invoice = rows_of(db, "invoices", TENANT_A)[0]
        for project in (rows_of(db, "projects", TENANT_X)[0]["id"], str(uuid.uuid4())):
            r = api.call("PATCH", f"{D}/invoices/{invoice['id']}", json={"project_id": project})
            assert r.status_code == 404 and r.json() == {"detail": "project not found"}
        assert sql(db, "SELECT project_id::text AS p FROM invoices WHERE id = %s", [invoice["id"]])[0]["p"] == (
            invoice["project_id"] and str(invoice["project_id"]))
        own_project = rows_of(db, "projects", TENANT_A)[1]["id"]
        r = api.call("PATCH", f"{D}/invoices/{invoice['id']}", json={"project_id": own_project})
        assert r.status_code == 200 and r.json()["project_id"] == own_project

        # seats: active users of my tenants, whatever the filters
        active = sum(u["active"] for u in rows_of(db, "users", TENANT_A))
        for params in ({}, {"role": "admin"}, {"limit": 1}):
            assert api.get(f"{D}/users", role="user", params=params).json()["seats_used"] == active
        assert api.get(f"{D}/users", role="corporate_admin").json()["seats_used"] == sum(
            u["active"] for u in db.dataset.tables["users"] if u["tenant_id"] in client_tenants(db))


def test_faults_are_confined_to_their_trigger(phoenix_db, monkeypatch):
    """With the faults on, only the trigger leaks: other kinds, page 1, the body, unknown ids stay right."""
    db = phoenix_db
    with running(db, monkeypatch) as api:
        kinds = notifications_by_kind(api)
        first_page = api.get(f"{D}/time-entries", role="user").json()["items"]
        export = api.get(f"{D}/customers/export").text
    with running(db, monkeypatch, faults=TRIGGERED) as api:
        leaky = notifications_by_kind(api)
        assert {k: v for k, v in leaky.items() if k != "system"} == {k: v for k, v in kinds.items() if k != "system"}
        assert len(leaky["system"]) > len(kinds["system"])
        assert api.get(f"{D}/time-entries", role="user").json()["items"] == first_page
        r = api.get(f"{D}/customers/export")
        assert r.text == export and int(r.headers["X-Total-Count"]) > len(rows_of(db, "customers", TENANT_A))
        invoice = rows_of(db, "invoices", TENANT_A)[0]["id"]
        r = api.call("PATCH", f"{D}/invoices/{invoice}", json={"project_id": str(uuid.uuid4())})
        assert r.status_code == 404 and r.json() == {"detail": "project not found"}  # the FK still refuses unknown ids
