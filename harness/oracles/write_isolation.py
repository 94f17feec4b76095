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
assignment. Rows are named by their primary key, whatever it is (``42``, a UUID, or
``workspace_id=3, user_id=7`` for a composite key), read from the catalogue when the log starts; a table
without one is named by its whole row.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql


@dataclass(frozen=True)
class Change:
    """The rows of one table and tenant that one request wrote, each named by its primary key."""

    table: str
    tenant: str
    inserted: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        for label, keys in (("inserted", self.inserted), ("updated", self.updated), ("deleted", self.deleted)):
            if keys:
                named = "; ".join(str(k) for k in keys[:3])
                parts.append(f"{label} {len(keys)} ({named}{'…' if len(keys) > 3 else ''})")
        return f"{self.table}: " + "; ".join(parts)


async def primary_keys(conn, tables) -> dict[str, list[str]]:
    """table -> its primary key columns in key order (``[]`` for a table without a primary key)."""
    cur = await conn.execute(
        "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE i.indisprimary AND n.nspname = ANY(current_schemas(false)) AND c.relname = ANY(%s) "
        "ORDER BY c.relname, k.pos", [list(tables)])
    keys: dict[str, list[str]] = {t: [] for t in tables}
    for table, column in await cur.fetchall():
        keys[table].append(column)
    return keys


def key_sql(columns: list[str], row: str = "t") -> sql.Composable:
    """SQL naming a row of alias ``row`` by ``columns`` as text: the value alone for a one-column key,
    ``a=1, b=2`` for a composite one, the whole row without a key."""
    if len(columns) == 1:
        return sql.SQL("{}.{}::text").format(sql.Identifier(row), sql.Identifier(columns[0]))
    if not columns:
        return sql.SQL("{}::text").format(sql.Identifier(row))
    return sql.SQL("concat_ws(', ', {})").format(sql.SQL(", ").join(
        sql.SQL("{} || '=' || coalesce({}.{}::text, 'null')").format(sql.Literal(c), sql.Identifier(row),
                                                                     sql.Identifier(c))
        for c in columns))


AUDIT_SCHEMA = "harness_audit"

_AUDIT_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA};
CREATE TABLE IF NOT EXISTS {AUDIT_SCHEMA}.changes (
    seq bigserial PRIMARY KEY, tbl text NOT NULL, tenant text, row_id text, op text NOT NULL);
-- A row named by its primary key columns (the trigger's arguments after the tenant column).
CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.row_key(r jsonb, cols text[]) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
AS $$
    SELECT CASE coalesce(array_length(cols, 1), 0)
        WHEN 0 THEN r::text
        WHEN 1 THEN r ->> cols[1]
        ELSE (SELECT string_agg(c || '=' || coalesce(r ->> c, 'null'), ', ' ORDER BY i)
              FROM unnest(cols) WITH ORDINALITY AS k(c, i))
    END
$$;
CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.record() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
AS $$
DECLARE
    col text := TG_ARGV[0];
    pk text[] := coalesce(TG_ARGV[1:TG_NARGS - 1], '{{}}');
    old_tenant text;
    new_tenant text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_tenant := to_jsonb(OLD) ->> col;
        INSERT INTO {AUDIT_SCHEMA}.changes (tbl, tenant, row_id, op)
        VALUES (TG_TABLE_NAME, old_tenant, {AUDIT_SCHEMA}.row_key(to_jsonb(OLD), pk), TG_OP);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_tenant := to_jsonb(NEW) ->> col;
        IF TG_OP = 'INSERT' OR new_tenant IS DISTINCT FROM old_tenant THEN
            INSERT INTO {AUDIT_SCHEMA}.changes (tbl, tenant, row_id, op)
            VALUES (TG_TABLE_NAME, new_tenant, {AUDIT_SCHEMA}.row_key(to_jsonb(NEW), pk), 'INSERT');
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
        keys = await primary_keys(self.conn, self.tables)
        for table, column in self.tables.items():
            await self.conn.execute(sql.SQL(
                "CREATE TRIGGER harness_audit AFTER INSERT OR UPDATE OR DELETE ON {} "
                "FOR EACH ROW EXECUTE FUNCTION {}.record({})").format(
                sql.Identifier(table), sql.Identifier(AUDIT_SCHEMA),
                sql.SQL(", ").join(map(sql.Literal, [column, *keys[table]]))))

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
        self.keys: dict[str, sql.Composable] = {}

    async def start(self) -> None:
        self.digest = await self._digest()
        self.keys = {t: key_sql(cols) for t, cols in (await primary_keys(self.conn, self.tables)).items()}
        for table, column in self.tables.items():
            cur = await self.conn.execute(sql.SQL("SELECT {}::text, {}, md5(t::text) FROM {} t").format(
                sql.Identifier(column), self.keys[table], sql.Identifier(table)))
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
                sql.SQL("SELECT {}, md5(t::text) FROM {} t WHERE {}::text = %s").format(
                    self.keys[table], sql.Identifier(table), sql.Identifier(column)), [tenant])
            after = dict(await cur.fetchall())
            before = self.rows.get((table, tenant), {})
            self.rows[(table, tenant)] = after
            out.append(Change(table, tenant,
                              tuple(sorted(after.keys() - before.keys())),
                              tuple(sorted(k for k in after.keys() & before.keys() if after[k] != before[k])),
                              tuple(sorted(before.keys() - after.keys()))))
        return out
