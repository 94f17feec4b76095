"""The database audit on real PostgreSQL: clean Phoenix passes, each weakening of RLS is named."""

import psycopg
import pytest

from harness.oracles.db_audit import audit
from phoenix import install
from scenarios.phoenix import TENANT_COLUMNS
from tests.conftest import build_phoenix_database


@pytest.fixture
def phoenix_db(pg_server, request):
    name = f"audit_{request.node.name[:40].replace('[', '_').replace(']', '').replace('-', '_')}"
    db = build_phoenix_database(pg_server, name)
    yield db
    pg_server.drop_database(name)


def test_clean_phoenix_passes_the_audit(phoenix_db):
    issues, definers = audit(phoenix_db.admin_dsn, TENANT_COLUMNS, install.APP_ROLE)
    assert issues == []
    assert definers, "Phoenix's login lookup is SECURITY DEFINER and must be listed"


def test_every_weakening_is_named_with_its_table(phoenix_db):
    with psycopg.connect(phoenix_db.admin_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE documents NO FORCE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE comments DISABLE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE tags ALTER COLUMN tenant_id DROP NOT NULL")
        conn.execute("CREATE TABLE shadow_copy (id uuid, tenant_id uuid)")
        conn.execute(f"ALTER ROLE {install.APP_ROLE} BYPASSRLS")
    try:
        issues, _ = audit(phoenix_db.admin_dsn, TENANT_COLUMNS, install.APP_ROLE)
    finally:
        with psycopg.connect(phoenix_db.admin_dsn, autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {install.APP_ROLE} NOBYPASSRLS")  # roles are cluster-wide
    found = {(i.subject, i.check) for i in issues}
    assert found == {("table documents", "rls-not-forced"), ("table comments", "rls-disabled"),
                     ("table tags", "nullable-tenant"), ("table shadow_copy", "undeclared"),
                     (f"role {install.APP_ROLE}", "role-bypassrls")}
