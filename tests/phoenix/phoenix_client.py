"""Test helpers: a Phoenix app on a test database, driven with Starlette's TestClient, logged in by role."""

from __future__ import annotations

import contextlib
import warnings

import psycopg
from psycopg.rows import dict_row
with warnings.catch_warnings():  # Starlette nags about httpx; the tests do not care
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from phoenix.app import create_app

TENANT_A = "techcorp-east"   # corporate admin's home of client techcorp
TENANT_B = "techcorp-west"   # same client as A
TENANT_X = "globex-east"     # another client


class Api:
    """One app instance; ``as_(role, tenant)`` gives a client carrying that principal's token."""

    def __init__(self, client: TestClient, db):
        self.client = client
        self.db = db
        self._tokens: dict[tuple[str, str], str] = {}

    def login(self, role: str, tenant: str = TENANT_A) -> dict[str, str]:
        key = (role, tenant)
        if key not in self._tokens:
            login = next(l for l in self.db.dataset.logins if l.role == role and l.tenant_slug == tenant)
            r = self.client.post("/api/auth/login", json={"email": login.email, "password": login.password})
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    def call(self, method: str, path: str, role: str = "admin", tenant: str = TENANT_A, **kw):
        headers = {**self.login(role, tenant), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def get(self, path, role="admin", tenant=TENANT_A, **kw):
        return self.call("GET", path, role, tenant, **kw)


@contextlib.contextmanager
def running(db, monkeypatch, faults: str = ""):
    """An app over ``db`` with ``PHOENIX_FAULTS=faults`` (read at creation), lifespan included."""
    monkeypatch.setenv("PHOENIX_FAULTS", faults)
    monkeypatch.setenv("PHOENIX_POOL_SIZE", "1")
    app = create_app(db.app_dsn, secret="test-secret")
    with TestClient(app, base_url="http://phoenix") as client:
        yield Api(client, db)


def tenant_id(db, slug: str) -> str:
    return next(t["id"] for t in db.dataset.tables["tenants"] if t["slug"] == slug)


def rows_of(db, table: str, slug: str) -> list[dict]:
    tid = tenant_id(db, slug)
    return [r for r in db.dataset.tables[table] if r["tenant_id"] == tid]


def sql(db, query: str, params=()) -> list[dict]:
    """Run SQL as the superuser (the ground truth, past RLS)."""
    with psycopg.connect(db.admin_dsn, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()
