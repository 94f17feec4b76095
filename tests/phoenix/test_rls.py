"""The safety net itself: phoenix_app is subject to RLS, and sees nothing without a tenant context."""

import psycopg

from phoenix import install


def test_app_role_without_context_sees_no_rows_in_any_tenant_table(phoenix_db):
    with psycopg.connect(phoenix_db.app_dsn, autocommit=True) as conn:
        for table in (*install.TENANT_TABLES, "tenants", "clients"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
            assert phoenix_db.dataset.tables[table], table


def test_app_role_is_neither_owner_superuser_nor_bypassrls(phoenix_db):
    with psycopg.connect(phoenix_db.admin_dsn, autocommit=True) as conn:
        role = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
                            [install.APP_ROLE]).fetchone()
        assert role == (False, False)
        owned = conn.execute("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                             "WHERE r.rolname = %s", [install.APP_ROLE]).fetchone()[0]
        assert owned == 0
        unforced = conn.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) "
                                "AND NOT (relrowsecurity AND relforcerowsecurity)",
                                [list(install.TENANT_TABLES)]).fetchall()
        assert unforced == []


def test_context_is_transaction_local(phoenix_db):
    mine = phoenix_db.dataset.tables["tenants"][0]["id"]
    with psycopg.connect(phoenix_db.app_dsn, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_ids', %s, true)", [mine])
            assert {r[0] for r in conn.execute("SELECT DISTINCT tenant_id::text FROM customers")} == {mine}
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 0
