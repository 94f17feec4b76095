"""Property 3, write isolation: nothing P sends changes another tenant's rows.

Two ways to see every write, both read as superuser (RLS hides nothing from them):

- :class:`ChangeLog` (in-process runs, on the harness's own clone): an audit trigger on every tenant
  table records (table, tenant, row, operation) for each row written, including both tenants of a
  row moved between tenants. After each unsafe request one ``DELETE … RETURNING`` drains it: the cost
  is proportional to what the request wrote, not to the size of the world. This replaced whole-table
  digests, which made every unsafe request scan the database (3× slower requests at 6 tenants, worse
  as the world grows).
- :class:`Digests` (live targets, whose schema the harness must not alter): per-tenant digests of
  every tenant table in one SQL round trip, plus a row-level snapshot to name the rows changed.

A change outside V(P) is a finding; a row that appears in a foreign tenant after P's create is mass
assignment.
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


AUDIT_SCHEMA = "harness_audit"

_AUDIT_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA};
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.changes (
    seq bigserial PRIMARY KEY, tbl text NOT NULL, tenant text, row_id text, op text NOT NULL);
CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.record() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
AS $$
DECLARE
    col text := TG_ARGV[0];
    old_tenant text;
    new_tenant text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_tenant := to_jsonb(OLD) ->> col;
        INSERT INTO {AUDIT_SCHEMA}.changes (tbl, tenant, row_id, op)
        VALUES (TG_TABLE_NAME, old_tenant, to_jsonb(OLD) ->> 'id', TG_OP);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_tenant := to_jsonb(NEW) ->> col;
        IF TG_OP = 'INSERT' OR new_tenant IS DISTINCT FROM old_tenant THEN
            INSERT INTO {AUDIT_SCHEMA}.changes (tbl, tenant, row_id, op)
            VALUES (TG_TABLE_NAME, new_tenant, to_jsonb(NEW) ->> 'id', 'INSERT');
        END IF;
    END IF;
    RETURN NULL;
END
$$;
"""


class ChangeLog:
    """Audit triggers on every tenant table of a database the harness owns (a clone)."""

    def __init__(self, conn, tenant_columns: dict[str, str | None]):
        self.conn = conn
        self.tables = {t: c for t, c in tenant_columns.items() if c}

    async def start(self) -> None:
        await self.conn.execute(_AUDIT_DDL)
        for table, column in self.tables.items():
            await self.conn.execute(sql.SQL(
                "CREATE TRIGGER harness_audit AFTER INSERT OR UPDATE OR DELETE ON {} "
                "FOR EACH ROW EXECUTE FUNCTION {}.record({})").format(
                sql.Identifier(table), sql.Identifier(AUDIT_SCHEMA), sql.Literal(column)))

    async def changes(self) -> list[Change]:
        cur = await self.conn.execute(
            f"DELETE FROM {AUDIT_SCHEMA}.changes RETURNING tbl, tenant, row_id, op")
        grouped: dict[tuple[str, str], dict[str, set]] = {}
        for table, tenant, row_id, op in await cur.fetchall():
            bucket = grouped.setdefault((table, tenant), {"INSERT": set(), "UPDATE": set(), "DELETE": set()})
            bucket[op].add(row_id)
        return [Change(table, tenant, tuple(sorted(b["INSERT"])), tuple(sorted(b["UPDATE"] - b["INSERT"])),
                       tuple(sorted(b["DELETE"] - b["INSERT"])))
                for (table, tenant), b in sorted(grouped.items())]


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
