"""Cross-tenant references: no row a request wrote may point at a row of another tenant.

An update can land in the principal's own row and still cross the boundary: it accepts another
tenant's project id in ``project_id`` and stores it (a foreign key checks existence, never tenancy,
and foreign-key checks bypass row-level security). Write isolation sees nothing (no foreign row
changed) and foreign rows sees nothing (no foreign value need come back). This oracle reads every
foreign key between tenant tables from the catalogue once, and after each unsafe request runs one
query per foreign key of each table the request wrote, on the rows it wrote only (the change log
names them), so its cost follows the request, not the world.

A row of tenant T may point at a row of T itself, or at a group-owned row whose group holds T (a
client's row, shared by its subsidiaries). A foreign key that the seeded world itself already
crosses is part of the data model (a "shared with" table): it is left out, and logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from harness.oracles.write_isolation import key_sql, primary_keys
from harness.world import World

_FOREIGN_KEYS = """
SELECT c.relname, p.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_class p ON p.oid = con.confrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f' AND n.nspname = ANY(current_schemas(false))
ORDER BY c.relname, con.conname
"""


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    #: The parent's owner column: its tenant column, or (group-owned parent) its group key column.
    owner_column: str
    grouped: bool

    @property
    def label(self) -> str:
        return f"{self.table}.{','.join(self.columns)} -> {self.parent}"

    def select(self, child_tenant: str, child_key: list[str], where_keys: bool) -> sql.Composed:
        """(child row key, child tenant, parent owner, parent row key) of child rows that may cross."""
        join = sql.SQL(" AND ").join(
            sql.SQL("c.{} = p.{}").format(sql.Identifier(a), sql.Identifier(b))
            for a, b in zip(self.columns, self.parent_columns))
        conditions = []
        if where_keys:
            conditions.append(sql.SQL("{} = ANY(%s)").format(key_sql(child_key, "c")))
        if not self.grouped:
            conditions.append(sql.SQL("c.{}::text IS DISTINCT FROM p.{}::text").format(
                sql.Identifier(child_tenant), sql.Identifier(self.owner_column)))
        return sql.SQL("SELECT {}, c.{}::text, p.{}::text, {} FROM {} c JOIN {} p ON {}{}").format(
            key_sql(child_key, "c"), sql.Identifier(child_tenant), sql.Identifier(self.owner_column),
            sql.SQL(", ").join(sql.SQL("p.{}::text").format(sql.Identifier(col)) for col in self.parent_columns),
            sql.Identifier(self.table), sql.Identifier(self.parent), join,
            sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""))


@dataclass(frozen=True)
class Crossing:
    fk: ForeignKey
    row: str
    tenant: str
    owners: frozenset[str]
    parent_row: str


class References:
    """The check (``ex.checks``): call :meth:`start` once on the database the change log reads."""

    def __init__(self, conn, world: World, log=None):
        self.conn = conn
        self.tenant_columns = {t: c for t, c in world.tenant_columns.items() if c}
        self.groups = dict(world.group_owners)
        self.log = log or (lambda message: None)
        self.by_table: dict[str, list[tuple[ForeignKey, sql.Composed]]] = {}
        self.skipped: list[str] = []

    async def start(self) -> "References":
        cur = await self.conn.execute(_FOREIGN_KEYS)
        found = []
        for table, parent, columns, parent_columns in await cur.fetchall():
            tenant = self.tenant_columns.get(table)
            if not tenant or list(columns) == [tenant]:
                continue  # not a tenant table, or its own tenant reference
            if parent in self.tenant_columns:
                found.append(ForeignKey(table, tuple(columns), parent, tuple(parent_columns),
                                        self.tenant_columns[parent], False))
            elif parent in self.groups:
                found.append(ForeignKey(table, tuple(columns), parent, tuple(parent_columns),
                                        self.groups[parent][0], True))
        keys = await primary_keys(self.conn, {fk.table for fk in found})
        for fk in found:
            if await self._crossing(fk, fk.select(self.tenant_columns[fk.table], keys[fk.table], False), None):
                self.skipped.append(fk.label)
                self.log(f"cross-reference: {fk.label} is crossed by the seeded world itself; not checked")
                continue
            query = fk.select(self.tenant_columns[fk.table], keys[fk.table], True)
            self.by_table.setdefault(fk.table, []).append((fk, query))
        return self

    async def _crossing(self, fk: ForeignKey, query, keys) -> list[Crossing]:
        cur = await self.conn.execute(query, [list(keys)] if keys is not None else None)
        out = []
        for row, tenant, owner, *parent_key in await cur.fetchall():
            owners = frozenset(self.groups[fk.parent][1].get(owner, ())) if fk.grouped else frozenset({owner})
            if tenant not in owners and owner is not None:
                out.append(Crossing(fk, row, tenant, owners, ", ".join(v or "null" for v in parent_key)))
        return out

    async def crossings(self, table: str, keys) -> list[Crossing]:
        out = []
        for fk, query in self.by_table.get(table, ()):
            out += await self._crossing(fk, query, keys)
        return out

    async def __call__(self, ex, obs) -> None:
        """After an unsafe request: the rows it inserted or updated point only into their own tenant."""
        if obs.probe.operation.safe or not obs.changes:
            return
        p, op = obs.principal, obs.probe.operation
        for change in obs.changes:
            written = change.inserted + change.updated
            if not written or change.table not in self.by_table:
                continue
            for c in await self.crossings(change.table, written):
                ex.crossed.add((c.fk.table, str(c.row)))  # its later cascades are this finding's consequence
                victim = ex.victim_label(c.owners)
                ex.finding("cross-reference", "cross-reference", obs.phase, op.label, p, victim,
                           f"{c.fk.table} row {c.row} of tenant {ex.victim_label({c.tenant})} now references "
                           f"{c.fk.parent} row {c.parent_row} of tenant {victim} through "
                           f"{', '.join(c.fk.columns)} (request answered {obs.status}): a reference must be "
                           f"resolved within the caller's tenant", obs.request, obs.status,
                           f"fk:{c.fk.table}.{','.join(c.fk.columns)}")
