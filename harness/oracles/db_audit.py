"""The database audit (``nightly`` and ``release``): the defence in depth, read from the catalogue.

The other oracles judge what the app does; this one judges what would stop it when the app slips.
A row-level-security policy that is enabled but not forced does nothing for the table's owner; an app
role that owns its tables, is a superuser or has BYPASSRLS skips every policy; a tenant table with a
nullable tenant column admits rows nobody owns. None of these leaks by itself, so each is reported as
a finding of its own kind (``db-audit``), naming the table and the fix. SECURITY DEFINER functions run
with their owner's rights (RLS included); they are listed for the reviewer, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class AuditIssue:
    subject: str  # "table documents", "role phoenix_app"
    check: str  # short key: rls-disabled, rls-not-forced, no-policy, nullable-tenant, role-owner, ...
    detail: str


def audit(admin_dsn: str, tenant_columns: dict[str, str | None], app_role: str | None,
          rls: bool = True) -> tuple[list[AuditIssue], list[str]]:
    """Issues found, and the SECURITY DEFINER functions of the public schema (for the record).

    ``rls=False`` (an app that isolates in its own layer only) skips the row-level-security checks."""
    issues: list[AuditIssue] = []
    with psycopg.connect(admin_dsn) as conn:
        tables = {name: col for name, col in tenant_columns.items() if col}
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner), "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY(%s)", [list(tables)]).fetchall()
        found = {r[0]: r[1:] for r in rows}
        for table, column in sorted(tables.items()):
            if table not in found:
                issues.append(AuditIssue(f"table {table}", "missing", "declared as a tenant table but not in the database"))
                continue
            enabled, forced, owner, policies = found[table]
            if not rls:
                pass
            elif not enabled:
                issues.append(AuditIssue(f"table {table}", "rls-disabled",
                                         f"row-level security is off: ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
            elif not forced:
                issues.append(AuditIssue(f"table {table}", "rls-not-forced",
                                         f"RLS is enabled but not forced, so it does not apply to the owner "
                                         f"({owner}): ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
            if rls and enabled and not policies:
                issues.append(AuditIssue(f"table {table}", "no-policy", "RLS enabled without any policy"))
            if rls and app_role and owner == app_role:
                issues.append(AuditIssue(f"table {table}", "role-owner",
                                         f"the app role {app_role} owns it: unforced policies never apply to it"))
            nullable = conn.execute(
                "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s AND column_name = %s", [table, column]).fetchone()
            if nullable is None:
                issues.append(AuditIssue(f"table {table}", "no-tenant-column", f"no column {column}"))
            elif nullable[0] == "YES":
                issues.append(AuditIssue(f"table {table}", "nullable-tenant",
                                         f"{column} is nullable: rows without an owner escape every tenant predicate"))
        undeclared = conn.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'tenant_id' AND NOT (table_name = ANY(%s)) ORDER BY 1", [list(tenant_columns)]).fetchall()
        for (table,) in undeclared:
            issues.append(AuditIssue(f"table {table}", "undeclared",
                                     "has a tenant_id column but the scenario does not declare it: it is never checked"))
        if app_role:
            role = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role]).fetchone()
            if role is None:
                issues.append(AuditIssue(f"role {app_role}", "missing", "the scenario's app role does not exist"))
            else:
                if role[0]:
                    issues.append(AuditIssue(f"role {app_role}", "role-superuser", "the app role is a superuser"))
                if role[1] and rls:
                    issues.append(AuditIssue(f"role {app_role}", "role-bypassrls", "the app role has BYPASSRLS"))
        definers = [f"{name}({args})" for name, args in conn.execute(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef "
            "ORDER BY 1, 2").fetchall()]
    return issues, definers
