"""Twin worlds for non-interference: the same template, with every tenant outside a set perturbed.

Perturbation is generic SQL, run as superuser in the twin database (a throwaway clone): about a
third of each foreign tenant's rows are deleted, another third duplicated under fresh ids (where
the table's unique constraints allow it), and every numeric column of the rest is shifted. Counts,
sums, averages and "exists" answers over foreign data all change; nothing in the kept tenants does.

Deletes run with ``session_replication_role = replica``, which skips foreign-key triggers: a parent
row goes even while its children stay. Otherwise one surviving task would pin every project and a
count of projects across tenants would never move. Dangling references can only point between
perturbed tenants (a kept tenant never references a foreign tenant's row), so the kept tenants'
answers are unaffected, which is the invariant the oracle relies on.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

NUMERIC = ("numeric", "integer", "bigint", "smallint", "double precision", "real")


def perturb(admin_dsn: str, tenant_columns: dict[str, str | None], keep: frozenset[str]) -> dict[str, int]:
    """Perturb every tenant not in ``keep``; returns rows deleted, added or updated per table."""
    touched: dict[str, int] = {}
    keep_list = sorted(keep)

    def count(table: str, n: int) -> None:
        if n:
            touched[table] = touched.get(table, 0) + n

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        tables = [(t, c) for t, c in tenant_columns.items() if c]
        for table, column in tables:
            foreign = sql.SQL("NOT ({c}::text = ANY(%s))").format(c=sql.Identifier(column))
            columns = _columns(conn, table)
            if columns.get("id") == "uuid" and column != "id":
                names = sql.SQL(", ").join(map(sql.Identifier, columns))
                values = sql.SQL(", ").join(sql.SQL("gen_random_uuid()") if c == "id" else sql.Identifier(c)
                                            for c in columns)
                count(table, _run(conn, sql.SQL(
                    "INSERT INTO {t} ({names}) SELECT {values} FROM {t} x WHERE {foreign} "
                    "AND abs(hashtext(x::text)) %% 3 = 1").format(
                    t=sql.Identifier(table), names=names, values=values, foreign=foreign), [keep_list]))
            count(table, _run(conn, sql.SQL(
                "DELETE FROM {t} x WHERE {foreign} AND abs(hashtext(x::text)) %% 3 = 0").format(
                t=sql.Identifier(table), foreign=foreign), [keep_list]))
            for col, data_type in columns.items():
                if data_type not in NUMERIC or col == column:
                    continue
                for shift in ("{col} + 1", "{col} - 1"):
                    n = _run(conn, sql.SQL("UPDATE {t} SET {col} = " + shift + " WHERE {foreign}").format(
                        t=sql.Identifier(table), col=sql.Identifier(col), foreign=foreign), [keep_list])
                    if n:
                        count(table, n)
                        break
    return touched


def _columns(conn, table: str) -> dict[str, str]:
    rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = %s AND is_generated = 'NEVER' "
                        "ORDER BY ordinal_position", [table]).fetchall()
    return dict(rows)


def _run(conn, statement, params) -> int:
    """One perturbation statement; one that the schema refuses (a unique or check constraint) is skipped."""
    try:
        with conn.transaction():
            return conn.execute(statement, params).rowcount
    except psycopg.Error:
        return 0
