"""Twin worlds for non-interference: the same template, every tenant outside a kept set perturbed.

The perturbation is deterministic and guaranteed to move every count and sum over foreign rows, so a
leaked aggregate is found on every run, not by chance. Per tenant table and per tenant outside the
kept set (generic SQL from the catalogue, run as superuser in the twin, a throwaway clone):

- **added**: every row is copied once under a new key, and the tenant's first row by key twice;
- **removed**: then that first row itself is deleted (its id no longer exists anywhere);
- **shifted**: every measure is moved, +1 for numbers (−1 where a check refuses +1), one day for dates.

So every count over a tenant's rows doubles (c matching rows become 2c, whichever rows a filter
keeps: the removed row lives on in its two copies), and every sum, average, minimum and maximum moves
with the shift. Removing one row and copying another, as a first idea would, leaves counts unchanged.

What never moves is what references something: primary keys, columns of a unique constraint and
foreign keys are copied as they are (shifting a membership's ``user_id`` once made a kept user a member
of a foreign workspace, a false positive). A copy gets a new key derived from the old one and the seed
(an md5 uuid, the integer plus a multiple of 2**29, a ``cN-`` prefix), so the same seed gives the same
twin byte for byte, and the app's own sequences are untouched (its next serial id is the same in the
base and the twin). A table whose unique keys are made only of references (a ``task_id, tag_id`` link,
a ``workspace_id, user_id`` membership) cannot get a copy without inventing a reference: its count
moves by the removal alone. The tenant registry itself (the tenant column is its key) only has its
measures shifted: a foreign tenant neither vanishes nor is invented, its data does the moving.

Triggers and foreign keys are off during the perturbation (``session_replication_role = replica``):
a parent row goes even while its children stay. Dangling references only point between perturbed
tenants (a kept tenant never references a foreign tenant's row), so the kept tenants' answers are
unaffected, which is the invariant the oracle relies on.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

#: Added (times the copy number, 1 or 2) to an integer or numeric key of a copy: far above any seeded or
#: sequence-generated value, so copies never collide with the app's own inserts and int4 still holds it.
KEY_OFFSET = 2**29
DAY = "1 day"


@dataclass
class Column:
    name: str
    category: str  # pg_type.typcategory: N numeric, S string, U user (uuid), D date/time, ...
    type: str  # format_type, e.g. "uuid", "integer", "numeric(14,2)"
    identity: bool


@dataclass
class Table:
    name: str
    tenant: str
    columns: list[Column]
    key: list[str]  # the primary key (empty when there is none)
    unique: list[list[str] | None]  # each unique index's columns (None: an expression index)
    references: set[str]  # columns of a foreign key

    @property
    def registry(self) -> bool:
        """The tenants table itself: the tenant column is its whole primary key."""
        return self.key == [self.tenant]

    def derived(self) -> set[str] | None:
        """Columns a copy must change to satisfy every unique index (None: no copy is possible)."""
        out: set[str] = set()
        for columns in self.unique:
            if columns is None:
                return None
            free = [c for c in columns if c != self.tenant and c not in self.references
                    and self.column(c).category in "NSU"]
            if not free:
                return None
            out.update(free)
        return out

    def measures(self) -> list[Column]:
        keyed = {c for cols in self.unique if cols for c in cols} | set(self.key)
        return [c for c in self.columns if c.name != self.tenant and c.name not in keyed
                and c.name not in self.references and c.category in "ND" and not c.identity
                and c.type not in ("time without time zone", "time with time zone")]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def perturb(admin_dsn: str, tenant_columns: dict[str, str | None], keep: frozenset[str],
            seed: int = 0) -> dict[str, dict[str, int]]:
    """Perturb every tenant not in ``keep``; returns rows added, removed and shifted per table."""
    touched: dict[str, dict[str, int]] = {}
    keep_list = sorted(keep)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for name, tenant in tenant_columns.items():
            if not tenant:
                continue
            table = describe(conn, name, tenant)
            if table is None:
                continue
            counts = {"added": 0, "removed": 0, "shifted": 0}
            if not table.registry:
                counts["added"], counts["removed"] = _add_and_remove(conn, table, keep_list, seed)
            counts["shifted"] = _shift(conn, table, keep_list)
            if any(counts.values()):
                touched[name] = counts
    return touched


def describe(conn, name: str, tenant: str) -> Table | None:
    """The table's columns, primary key, unique indexes and foreign-key columns, from the catalogue."""
    oid = conn.execute("SELECT to_regclass(quote_ident(%s))::oid", [name]).fetchone()[0]
    if oid is None:
        return None
    columns = [Column(*row) for row in conn.execute(
        "SELECT a.attname, t.typcategory, format_type(a.atttypid, a.atttypmod), a.attidentity <> '' "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
        "ORDER BY a.attnum", [oid]).fetchall()]
    key, unique = [], []
    for primary, names, expression in conn.execute(
            "SELECT i.indisprimary, array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), "
            "i.indexprs IS NOT NULL OR i.indpred IS NOT NULL "
            "FROM pg_index i WHERE i.indrelid = %s AND i.indisunique ORDER BY i.indexrelid", [oid]).fetchall():
        unique.append(None if expression else list(names))
        if primary:
            key = list(names)
    references = {r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY(c.conkey) WHERE c.conrelid = %s AND c.contype = 'f'", [oid]).fetchall()}
    if tenant not in {c.name for c in columns}:
        return None
    return Table(name, tenant, columns, key, unique, references)


def _foreign(table: Table) -> sql.Composable:
    return sql.SQL("NOT ({}::text = ANY(%(keep)s))").format(sql.Identifier(table.tenant))


def _first_rows(table: Table) -> sql.Composable:
    """The ctid of each foreign tenant's first row by key (by the whole row when there is no key)."""
    order = (sql.SQL(", ").join(map(sql.Identifier, table.key)) if table.key
             else sql.SQL("x::text"))
    return sql.SQL("SELECT DISTINCT ON (x.{tenant}) x.ctid FROM {t} x WHERE {foreign} "
                   "ORDER BY x.{tenant}, {order}").format(
        tenant=sql.Identifier(table.tenant), t=sql.Identifier(table.name), foreign=_foreign(table), order=order)


def _copy_value(column: Column, derived: set[str]) -> sql.Composable:
    """A copy's value: the same, or, for a key column, one derived from the old value and the copy number."""
    col = sql.SQL("x.{}").format(sql.Identifier(column.name))
    if column.name not in derived:
        return col
    if column.category == "U" and column.type == "uuid":
        return sql.SQL("md5(%(tag)s || {} || ':' || x._twin_copy)::uuid").format(
            sql.SQL("{}::text").format(col))
    if column.category == "N":
        return sql.SQL("{} + x._twin_copy * {}").format(col, sql.Literal(KEY_OFFSET))
    return sql.SQL("'c' || x._twin_copy || '-' || {}").format(col)


def _add_and_remove(conn, table: Table, keep: list[str], seed: int) -> tuple[int, int]:
    """Copy every foreign row once and each tenant's first row twice, then delete that first row."""
    params = {"keep": keep, "tag": f"{seed}:{table.name}:"}
    first = _first_rows(table)
    remove = sql.SQL("DELETE FROM {t} WHERE ctid IN ({first})").format(t=sql.Identifier(table.name), first=first)
    derived = table.derived()
    if derived is not None:
        tenants = conn.execute(sql.SQL("SELECT count(*) FROM ({}) f").format(first), params).fetchone()[0]
        names = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
        values = sql.SQL(", ").join(_copy_value(c, derived) for c in table.columns)
        # One statement: its SELECT sees the table as it was before the statement's own DELETE, so the
        # first row is copied once from the table and once more from what the DELETE returned.
        added = _run(conn, sql.SQL(
            "WITH gone AS ({remove} RETURNING *) "
            "INSERT INTO {t} ({names}) OVERRIDING SYSTEM VALUE SELECT {values} FROM ("
            "SELECT y.*, 1 AS _twin_copy FROM {t} y WHERE {foreign} "
            "UNION ALL SELECT g.*, 2 FROM gone g) x").format(
            remove=remove, t=sql.Identifier(table.name), names=names, values=values, foreign=_foreign(table)),
            params)
        if added is not None:
            return added, tenants
    return 0, _run(conn, remove, params) or 0


def _shift(conn, table: Table, keep: list[str]) -> int:
    """Move every measure of every foreign row: all at once, else column by column (+ then −)."""
    measures = table.measures()
    if not measures:
        return 0
    params = {"keep": keep}

    def update(assignments):
        return sql.SQL("UPDATE {t} SET {a} WHERE {foreign}").format(
            t=sql.Identifier(table.name), a=sql.SQL(", ").join(assignments), foreign=_foreign(table))

    def assign(column: Column, sign: str):
        step = sql.SQL("interval {}").format(sql.Literal(DAY)) if column.category == "D" else sql.SQL("1")
        return sql.SQL("{c} = {c} " + sign + " {step}").format(c=sql.Identifier(column.name), step=step)

    n = _run(conn, update([assign(c, "+") for c in measures]), params)
    if n is not None:
        return n
    shifted = 0
    for column in measures:
        for sign in ("+", "-"):
            n = _run(conn, update([assign(column, sign)]), params)
            if n is not None:
                shifted = max(shifted, n)
                break
    return shifted


def _run(conn, statement, params) -> int | None:
    """One perturbation statement's row count; None when the schema refuses it (a constraint, a range)."""
    try:
        with conn.transaction():
            return conn.execute(statement, params).rowcount
    except psycopg.Error:
        return None
