"""Every planted dashboard fault really leaks with RLS in place, and the same request is clean without it.

Each probe drives the app as a principal of tenant A and returns True when it observed another tenant's
data (or, for writes, when superuser SQL shows the write landed in another tenant).
"""

from __future__ import annotations

import csv
import io
import os
import sys
import uuid

import pytest
from phoenix_client import TENANT_A, TENANT_X, rows_of, running, sql, tenant_id

from phoenix import faults

D = "/api/dashboard"


def _foreign(items, api) -> bool:
    mine = set(_tenants_of(api))
    return any(item["tenant_id"] not in mine for item in items)


def _tenants_of(api):
    return [tenant_id(api.db, TENANT_A)]


def list_unfiltered(api):
    return _foreign(api.get(f"{D}/customers", role="user", params={"limit": 100}).json()["items"], api)


def idor_get(api):
    r = api.get(f"{D}/invoices/{rows_of(api.db, 'invoices', TENANT_X)[0]['id']}", role="user")
    return r.status_code == 200 and r.json()["tenant_id"] == tenant_id(api.db, TENANT_X)


def nested_child_unchecked(api):
    mine = rows_of(api.db, "projects", TENANT_A)[0]["id"]
    r = api.get(f"{D}/projects/{mine}/tasks/{rows_of(api.db, 'tasks', TENANT_X)[0]['id']}", role="user")
    return r.status_code == 200


def search_cross_tenant(api):
    return _foreign(api.get(f"{D}/search", role="user", params={"q": "PRJ", "limit": 100}).json()["items"], api)


def corporate_scope_too_broad(api):
    items = api.get(f"{D}/customers", role="corporate_admin", params={"limit": 100}).json()["items"]
    return tenant_id(api.db, TENANT_X) in {c["tenant_id"] for c in items}


def pooled_context_leak(api):
    api.login("user", TENANT_A)
    assert api.get(f"{D}/projects", role="user", tenant=TENANT_X).status_code == 200  # leaves its context behind
    return _foreign(api.get(f"{D}/activity", role="user", params={"limit": 100}).json()["items"], api)


def cache_key_without_tenant(api):
    assert api.get(f"{D}/kpis/summary", role="user", tenant=TENANT_X).status_code == 200
    return _foreign(api.get(f"{D}/kpis/summary", role="user").json()["tenants"], api)


def tenant_header_override(api):
    r = api.get(f"{D}/customers", role="user", headers={"X-Tenant-ID": tenant_id(api.db, TENANT_X)})
    return r.status_code == 200 and _foreign(r.json()["items"], api)


def mass_assignment_tenant(api):
    victim = tenant_id(api.db, TENANT_X)
    api.call("POST", f"{D}/customers", json={"name": "Planted", "email": "planted@evil.example",
                                             "country_code": "DE", "tenant_id": victim})
    return bool(sql(api.db, "SELECT 1 FROM customers WHERE email = 'planted@evil.example' AND tenant_id = %s",
                    [victim]))


def update_delete_unchecked(api):
    task = next(t for t in rows_of(api.db, "tasks", TENANT_X) if t["status"] != "review")
    api.call("POST", f"{D}/tasks/bulk-update", json={"ids": [task["id"]], "status": "review"})
    return sql(api.db, "SELECT status FROM tasks WHERE id = %s", [task["id"]])[0]["status"] == "review"


def export_unfiltered(api):
    text = api.get(f"{D}/invoices/export").text
    return any(inv["number"] in text for inv in rows_of(api.db, "invoices", TENANT_X))


def error_echoes_foreign(api):
    mine = {t["name"] for t in rows_of(api.db, "tags", TENANT_A)}
    name = sorted({t["name"] for t in rows_of(api.db, "tags", TENANT_X)} - mine)[0]
    r = api.call("POST", f"{D}/tags", json={"name": name})
    foreign = {t["id"] for t in api.db.dataset.tables["tags"] if t["tenant_id"] != tenant_id(api.db, TENANT_A)}
    return any(tag_id in r.text for tag_id in foreign)


def pagination_total_cross_tenant(api):
    page = api.get(f"{D}/projects", role="user", params={"limit": 1}).json()
    return page["total"] != len(rows_of(api.db, "projects", TENANT_A))


def batch_get_first_only(api):
    ids = f"{rows_of(api.db, 'projects', TENANT_A)[0]['id']},{rows_of(api.db, 'projects', TENANT_X)[0]['id']}"
    r = api.get(f"{D}/projects/batch", role="user", params={"ids": ids})
    return r.status_code == 200 and _foreign(r.json()["items"], api)


def rls_not_forced(api):
    return _foreign(api.get(f"{D}/documents", role="user", params={"limit": 100}).json()["items"], api)


def system_notices_all_tenants(api):
    mine = set(_tenants_of(api))
    assert any(n["kind"] == "system" and n["tenant_id"] not in mine for n in api.db.dataset.tables["notifications"])
    r = api.get(f"{D}/notifications", role="user", params={"kind": "system", "limit": 100})
    assert r.status_code == 200 and all(n["kind"] == "system" for n in r.json()["items"])
    return _foreign(r.json()["items"], api)


def time_entries_later_pages_unfiltered(api):
    first = api.get(f"{D}/time-entries", role="user").json()
    assert first["next_cursor"] and not _foreign(first["items"], api)  # page 1 is right either way
    second = api.get(f"{D}/time-entries", role="user", params={"cursor": first["next_cursor"]})
    assert second.status_code == 200 and second.json()["items"]
    return _foreign(second.json()["items"], api)


def export_total_header_all_tenants(api):
    r = api.get(f"{D}/customers/export")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert not _foreign(rows, api) and len(rows) == len(rows_of(api.db, "customers", TENANT_A))  # the file is right
    return int(r.headers["X-Total-Count"]) != len(rows)


def document_forbidden_reveals_existence(api):
    elsewhere = api.get(f"{D}/documents/{rows_of(api.db, 'documents', TENANT_X)[0]['id']}", role="user")
    nowhere = api.get(f"{D}/documents/{uuid.uuid4()}", role="user")
    assert nowhere.status_code == 404 and elsewhere.status_code in (403, 404)
    assert set(elsewhere.json()) == set(nowhere.json()) == {"detail"}  # same shape, no foreign data
    return elsewhere.status_code != nowhere.status_code


def project_code_unique_globally(api):
    theirs = rows_of(api.db, "projects", TENANT_X)[0]
    assert theirs["code"] not in {p["code"] for p in rows_of(api.db, "projects", TENANT_A)}
    r = api.call("POST", f"{D}/projects", json={"code": theirs["code"], "name": "Ours", "starts_on": "2026-01-01"})
    assert r.status_code in (201, 409), r.text
    assert theirs["id"] not in r.text and theirs["name"] not in r.text  # never the foreign row itself
    return r.status_code == 409


def invoice_project_reference_unchecked(api):
    invoice = rows_of(api.db, "invoices", TENANT_A)[0]["id"]
    theirs = rows_of(api.db, "projects", TENANT_X)[0]["id"]
    r = api.call("PATCH", f"{D}/invoices/{invoice}", json={"project_id": theirs})
    assert r.status_code in (200, 404), r.text
    landed = sql(api.db, "SELECT project_id::text AS p FROM invoices WHERE id = %s", [invoice])[0]["p"] == theirs
    assert landed == (r.status_code == 200)
    return landed


def seat_count_all_tenants(api):
    body = api.get(f"{D}/users", role="user", params={"limit": 1}).json()
    assert not _foreign(body["items"], api)
    return body["seats_used"] != sum(u["active"] for u in rows_of(api.db, "users", TENANT_A))


PROBES = {
    "list-unfiltered": list_unfiltered, "idor-get": idor_get, "nested-child-unchecked": nested_child_unchecked,
    "search-cross-tenant": search_cross_tenant, "corporate-scope-too-broad": corporate_scope_too_broad,
    "pooled-context-leak": pooled_context_leak, "cache-key-without-tenant": cache_key_without_tenant,
    "tenant-header-override": tenant_header_override, "mass-assignment-tenant": mass_assignment_tenant,
    "update-delete-unchecked": update_delete_unchecked, "export-unfiltered": export_unfiltered,
    "error-echoes-foreign": error_echoes_foreign, "pagination-total-cross-tenant": pagination_total_cross_tenant,
    "batch-get-first-only": batch_get_first_only, "rls-not-forced": rls_not_forced,
    "system-notices-all-tenants": system_notices_all_tenants,
    "time-entries-later-pages-unfiltered": time_entries_later_pages_unfiltered,
    "export-total-header-all-tenants": export_total_header_all_tenants,
    "document-forbidden-reveals-existence": document_forbidden_reveals_existence,
    "project-code-unique-globally": project_code_unique_globally,
    "invoice-project-reference-unchecked": invoice_project_reference_unchecked,
    "seat-count-all-tenants": seat_count_all_tenants,
}
#: Faults that live in the install (a function body, a missing FORCE, a legacy index): they need a
#: database built with them.
INSTALL_TIME = {"corporate-scope-too-broad", "rls-not-forced", "project-code-unique-globally"}


def test_every_dashboard_fault_has_a_probe():
    faults.parse("")  # loads the catalogue
    dashboard = {n for n, f in faults.REGISTRY.items() if any(a.split()[0] in ("GET", "POST", "PATCH", "DELETE")
                                                             and a.split()[1].startswith("/api/dashboard")
                                                             for a in f.affects)}
    assert dashboard
    assert set(PROBES) <= set(faults.REGISTRY)
    assert dashboard <= set(PROBES)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_fault_off_does_not_leak(name, phoenix_db, monkeypatch):
    with running(phoenix_db, monkeypatch) as api:
        assert PROBES[name](api) is False


@pytest.mark.parametrize("name", sorted(PROBES))
def test_fault_on_leaks_despite_rls(name, phoenix_db, pg_server, monkeypatch):
    db = phoenix_db
    if name in INSTALL_TIME:
        build_phoenix_database = next(m.build_phoenix_database for m in list(sys.modules.values())
                                      if hasattr(m, "build_phoenix_database"))
        monkeypatch.setenv("PHOENIX_FAULTS", name)
        db = build_phoenix_database(pg_server, f"phoenix_fault_{os.getpid()}_{name.replace('-', '_')}")
    try:
        with running(db, monkeypatch, faults=name) as api:
            assert PROBES[name](api) is True
    finally:
        if db is not phoenix_db:
            pg_server.drop_database(db.name)
