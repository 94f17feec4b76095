"""Property 3, write isolation: nothing P sends changes another tenant's rows.

Per-tenant digests of every tenant table, in one SQL round trip (count and an order-independent hash
per table × tenant), are taken before and after each unsafe request. A changed digest outside V(P)
is a finding; the row-level snapshot kept for that table × tenant names the rows inserted, updated
or deleted. A row that appears in a foreign tenant after P's create is mass assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql


@dataclass(frozen=True)
class Change:
    table: str
    tenant: str
    inserted: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        for label, ids in (("inserted", self.inserted), ("updated", self.updated), ("deleted", self.deleted)):
            if ids:
                parts.append(f"{label} {len(ids)} ({', '.join(ids[:3])}{'…' if len(ids) > 3 else ''})")
        return f"{self.table}: " + "; ".join(parts)


class Digests:
    """Digest and row snapshots of the run database, read as superuser (RLS does not hide rows)."""

    def __init__(self, conn, tenant_columns: dict[str, str | None]):
        self.conn = conn
        self.tables = {t: c for t, c in tenant_columns.items() if c}
        selects = [
            sql.SQL("SELECT {} AS tbl, {}::text AS tenant, count(*) AS n, "
                    "sum(hashtextextended(t::text, 0)) AS h FROM {} t GROUP BY 2").format(
                sql.Literal(table), sql.Identifier(column), sql.Identifier(table))
            for table, column in self.tables.items()
        ]
        self._digest_sql = sql.SQL(" UNION ALL ").join(selects)
        self.digest = {}
        self.rows: dict[tuple[str, str], dict[str, str]] = {}

    async def start(self) -> None:
        self.digest = await self._digest()
        for table, column in self.tables.items():
            cur = await self.conn.execute(sql.SQL("SELECT {}::text, id::text, md5(t::text) FROM {} t").format(
                sql.Identifier(column), sql.Identifier(table)))
            for tenant, row_id, h in await cur.fetchall():
                self.rows.setdefault((table, tenant), {})[row_id] = h

    async def _digest(self) -> dict[tuple[str, str], tuple[int, int]]:
        cur = await self.conn.execute(self._digest_sql)
        return {(t, ten): (n, h) for t, ten, n, h in await cur.fetchall()}

    async def changes(self) -> list[Change]:
        """What changed since the last call, per table × tenant (and the snapshot moves on)."""
        now = await self._digest()
        changed = [k for k in now.keys() | self.digest.keys() if now.get(k) != self.digest.get(k)]
        self.digest = now
        out = []
        for table, tenant in sorted(changed):
            column = self.tables[table]
            cur = await self.conn.execute(
                sql.SQL("SELECT id::text, md5(t::text) FROM {} t WHERE {}::text = %s").format(
                    sql.Identifier(table), sql.Identifier(column)), [tenant])
            after = dict(await cur.fetchall())
            before = self.rows.get((table, tenant), {})
            self.rows[(table, tenant)] = after
            out.append(Change(table, tenant,
                              tuple(sorted(after.keys() - before.keys())),
                              tuple(sorted(k for k in after.keys() & before.keys() if after[k] != before[k])),
                              tuple(sorted(before.keys() - after.keys()))))
        return out
