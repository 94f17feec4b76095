"""Create Phoenix's roles and schema in a database (what the migration job does in production).

Roles are cluster-wide, so they are created once and reused by every database cloned from a template:
- ``phoenix_owner`` owns every object and runs migrations; FORCE ROW LEVEL SECURITY applies to it too.
- ``phoenix_app`` is what the app logs in as: it owns nothing, is no superuser and has no BYPASSRLS.
- ``phoenix_auth`` owns the single SECURITY DEFINER login lookup and may bypass RLS; it cannot log in.
"""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg import sql

APP_ROLE = "phoenix_app"
APP_PASSWORD = "phoenix_app"
OWNER_ROLE = "phoenix_owner"
OWNER_PASSWORD = "phoenix_owner"
AUTH_ROLE = "phoenix_auth"
#: The reporting engine's role: read-only, BYPASSRLS (ADR-007 trade-off: RLS made the long report
#: queries unplannable, so every report carries explicit tenant predicates instead — which is exactly
#: why the harness fuzzes every report).
REPORTING_ROLE = "phoenix_reporting"
REPORTING_PASSWORD = "phoenix_reporting"
#: The background job worker (reminders, queued bulk changes): BYPASSRLS because one job may touch
#: many tenants; it is no part of the request path of the clean dashboard API.
WORKER_ROLE = "phoenix_worker"
WORKER_PASSWORD = "phoenix_worker"

#: Tables that carry ``tenant_id``; each gets RLS enabled and forced, and the tenant policy.
TENANT_TABLES = (
    "teams", "users", "customers", "projects", "tasks", "tags", "task_tags", "invoices",
    "invoice_lines", "payments", "time_entries", "documents", "comments", "notifications",
    "audit_events", "dashboards", "widgets",
)
GLOBAL_TABLES = ("currencies", "countries")

_ROLES = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
        CREATE ROLE {OWNER_ROLE} LOGIN PASSWORD '{OWNER_PASSWORD}' NOSUPERUSER NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{REPORTING_ROLE}') THEN
        CREATE ROLE {REPORTING_ROLE} LOGIN PASSWORD '{REPORTING_PASSWORD}' NOSUPERUSER BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WORKER_ROLE}') THEN
        CREATE ROLE {WORKER_ROLE} LOGIN PASSWORD '{WORKER_PASSWORD}' NOSUPERUSER BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AUTH_ROLE}') THEN
        CREATE ROLE {AUTH_ROLE} NOLOGIN NOSUPERUSER BYPASSRLS;
    END IF;
END
$$;
"""


def forced_tables() -> tuple[str, ...]:
    """The tenant tables that get FORCE ROW LEVEL SECURITY (all of them on a correct install)."""
    from phoenix import catalogue, faults  # noqa: F401  (importing the catalogue fills the registry)

    return tuple(t for t in TENANT_TABLES if not faults.rls_unforced(t))


def install(admin_dsn: str) -> None:
    """Install roles, schema, RLS policies and grants into the (empty) database at ``admin_dsn``.

    ``admin_dsn`` must be a superuser connection: it creates the cluster roles and hands the schema to
    ``phoenix_owner``. Idempotent for roles, not for the schema (run once per fresh database).
    """
    ddl = resources.files("phoenix").joinpath("schema.sql").read_text()
    forced = set(forced_tables())
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(_ROLES)
        dbname = conn.info.dbname
        conn.execute(sql.SQL("GRANT CREATE, CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)))
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {OWNER_ROLE}")
        with conn.transaction():
            conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
            conn.execute(ddl)
            _legacy_indexes(conn)
            for table in TENANT_TABLES:
                conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                if table in forced:
                    conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
                conn.execute(
                    f"CREATE POLICY tenant_isolation ON {table} "
                    "USING (tenant_id = ANY (phoenix_current_tenants())) "
                    "WITH CHECK (tenant_id = ANY (phoenix_current_tenants()))")
            conn.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
            conn.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
            conn.execute("CREATE POLICY tenant_isolation ON tenants "
                         "USING (id = ANY (phoenix_current_tenants()))")
            conn.execute("ALTER TABLE clients ENABLE ROW LEVEL SECURITY")
            conn.execute("ALTER TABLE clients FORCE ROW LEVEL SECURITY")
            conn.execute("CREATE POLICY tenant_isolation ON clients USING (id IN "
                         "(SELECT client_id FROM tenants WHERE id = ANY (phoenix_current_tenants())))")
            conn.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
            conn.execute(f"GRANT SELECT ON {', '.join(GLOBAL_TABLES)}, clients, tenants TO {APP_ROLE}")
            conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TENANT_TABLES)} TO {APP_ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {REPORTING_ROLE}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {REPORTING_ROLE}")
        # The login lookup belongs to the auth role (BYPASSRLS), not to the owner (FORCE applies).
        conn.execute(f"GRANT SELECT ON users TO {AUTH_ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {AUTH_ROLE}")
        conn.execute(f"ALTER FUNCTION phoenix_login_lookup(text) OWNER TO {AUTH_ROLE}")
        conn.execute(f"REVOKE ALL ON FUNCTION phoenix_login_lookup(text) FROM PUBLIC")
        conn.execute(f"GRANT EXECUTE ON FUNCTION phoenix_login_lookup(text) TO {APP_ROLE}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {WORKER_ROLE}")
        conn.execute(f"GRANT SELECT, UPDATE ON tasks TO {WORKER_ROLE}")
        conn.execute(f"GRANT SELECT ON projects, users, notifications TO {WORKER_ROLE}")
        conn.execute(f"GRANT INSERT ON notifications, audit_events TO {WORKER_ROLE}")
        _install_client_scope(conn)


def _legacy_indexes(conn) -> None:
    """Indexes of the single-tenant era; a correct install has none left (``UNIQUE (tenant_id, code)``
    replaced them in schema.sql). The fault ``project-code-unique-globally`` keeps one."""
    from phoenix import faults

    if "project-code-unique-globally" in faults.active():
        # The planted bug: the multi-tenant migration added UNIQUE (tenant_id, code) but never dropped
        # the old index on code alone. A unique index sees every row, whatever the RLS policy says.
        conn.execute("CREATE UNIQUE INDEX projects_code_key ON projects (code)")


def _install_client_scope(conn) -> None:
    """Hand the scope function to phoenix_auth (the fault ``corporate-scope-too-broad`` rewrites it)."""
    from phoenix import faults

    if "corporate-scope-too-broad" in faults.active():
        # The planted bug: a correlated subquery whose inner alias compares with the OUTER row
        # (`home.id = t.id`), so it is true for every tenant of every client.
        conn.execute("""CREATE OR REPLACE FUNCTION phoenix_client_tenants(p_tenant_id uuid)
            RETURNS TABLE (client_id uuid, tenant_id uuid)
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
        AS $$
            SELECT t.client_id, t.id FROM tenants t
             WHERE t.client_id IN (SELECT home.client_id FROM tenants home WHERE home.id = t.id)
               AND EXISTS (SELECT 1 FROM tenants me WHERE me.id = p_tenant_id)
        $$""")
    conn.execute(f"GRANT SELECT ON tenants TO {AUTH_ROLE}")
    conn.execute(f"ALTER FUNCTION phoenix_client_tenants(uuid) OWNER TO {AUTH_ROLE}")
    conn.execute("REVOKE ALL ON FUNCTION phoenix_client_tenants(uuid) FROM PUBLIC")
    conn.execute(f"GRANT EXECUTE ON FUNCTION phoenix_client_tenants(uuid) TO {APP_ROLE}")
