"""The database facts the tenant-predicate analysis needs, read once from pg_catalog.

Why a separate object: a statement's text says which tables it reads and how it filters them, but
whether row-level security binds it depends on the table (RLS enabled, forced, a policy, its owner)
and on the role that ran it (superuser, BYPASSRLS, owner's privileges). Column lists resolve
unqualified names; foreign keys justify the "join on a key" rule; context functions (those whose SQL
body reads ``current_setting``) count as the tenant context in a predicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pglast
from pglast import ast


@dataclass(frozen=True)
class TableFacts:
    name: str
    rls_enabled: bool
    rls_forced: bool
    has_policy: bool
    owner: str


@dataclass(frozen=True)
class RoleFacts:
    name: str
    superuser: bool = False
    bypassrls: bool = False
    #: Tables whose owner's privileges this role has (it owns them, or inherits from their owner).
    owner_of: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]

    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.columns, self.ref_columns))


@dataclass
class Catalogue:
    """``tenant_columns``: tenant table -> its tenant column (``{"projects": "tenant_id", "tenants": "id"}``)."""

    tenant_columns: Mapping[str, str]
    tables: Mapping[str, TableFacts] = field(default_factory=dict)
    roles: Mapping[str, RoleFacts] = field(default_factory=dict)
    #: Every visible table's columns in order (unknown tables resolve conservatively).
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: tuple[ForeignKey, ...] = ()
    context_functions: frozenset[str] = frozenset({"current_setting"})

    def rls_binds(self, table: str, role: str | None) -> tuple[bool, str]:
        """Whether RLS filters ``table`` for ``role``, and why (one clause)."""
        facts = self.tables.get(table)
        if facts is None:
            return False, f"no catalogue facts for {table}"
        if not facts.rls_enabled:
            return False, f"RLS is disabled on {table}"
        if not facts.has_policy:
            return False, f"{table} has no RLS policy"
        if role is None:
            return False, "the role is unknown"
        r = self.roles.get(role)
        if r is None:
            return False, f"role {role} is not in the catalogue"
        if r.superuser:
            return False, f"{role} is a superuser"
        if r.bypassrls:
            return False, f"{role} has BYPASSRLS"
        if table in r.owner_of and not facts.rls_forced:
            return False, f"{role} owns {table} and RLS is not forced"
        return True, f"RLS binds {role} on {table}"

    def foreign_key(self, table: str, column: str, other: str, other_column: str) -> ForeignKey | None:
        """A declared FK linking ``table.column`` and ``other.other_column`` (either direction)."""
        for fk in self.foreign_keys:
            if fk.table == table and fk.ref_table == other and (column, other_column) in fk.pairs():
                return fk
            if fk.table == other and fk.ref_table == table and (other_column, column) in fk.pairs():
                return fk
        return None


_TABLES = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid), pg_get_userbyid(c.relowner)
  FROM pg_class c
 WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) AND c.relname = ANY(%s)
"""
_COLUMNS = """
SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_table_is_visible(c.oid)
   AND c.relnamespace <> 'pg_catalog'::regnamespace
 GROUP BY c.relname
"""
_FKEYS = """
SELECT c.relname, r.relname,
       array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
 WHERE k.contype = 'f' AND pg_table_is_visible(c.oid)
"""
_ROLES = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
       array(SELECT c.relname::text FROM pg_class c
              WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) AND c.relname = ANY(%s)
                AND pg_has_role(r.oid, c.relowner, 'USAGE'))
  FROM pg_roles r
 WHERE left(r.rolname, 3) <> 'pg_'
"""
_FUNCTIONS = """
SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE l.lanname = 'sql' AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
"""


def catalogue(admin_dsn: str, tenant_columns: Mapping[str, str]) -> Catalogue:
    """Read the facts for ``tenant_columns`` from the database at ``admin_dsn`` (any role that can read pg_catalog)."""
    import psycopg

    names = list(tenant_columns)
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
        tables = {r[0]: TableFacts(*r) for r in conn.execute(_TABLES, [names])}
        columns = {r[0]: tuple(r[1]) for r in conn.execute(_COLUMNS)}
        fks = tuple(ForeignKey(r[0], tuple(r[2]), r[1], tuple(r[3])) for r in conn.execute(_FKEYS))
        roles = {r[0]: RoleFacts(r[0], r[1], r[2], frozenset(r[3])) for r in conn.execute(_ROLES, [names])}
        functions = conn.execute(_FUNCTIONS).fetchall()
    return Catalogue(dict(tenant_columns), tables, roles, columns, fks, context_functions(functions))


def context_functions(functions: Iterable[tuple[str, str]]) -> frozenset[str]:
    """``current_setting`` and every SQL function whose body calls one of them (transitively).

    The bodies are parsed with pglast; a body that does not parse (or a non-SQL function) is not one.
    """
    calls: dict[str, set[str]] = {}
    for name, body in functions:
        try:
            tree = pglast.parse_sql(body)
        except pglast.Error:
            continue
        calls.setdefault(name, set()).update(_called(tree))
    known = {"current_setting"}
    changed = True
    while changed:
        changed = False
        for name, called in calls.items():
            if name not in known and called & known:
                known.add(name)
                changed = True
    return frozenset(known)


def _called(node) -> set[str]:
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
        elif isinstance(n, ast.Node):
            if isinstance(n, ast.FuncCall):
                out.add(n.funcname[-1].sval)
            stack.extend(getattr(n, s) for s in n.__slots__)
    return out
