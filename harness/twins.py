"""Twin worlds for non-interference: the same template, with every tenant outside a set perturbed.

Perturbation is generic SQL, run as superuser in the twin database: about a third of each foreign
tenant's rows are deleted (leaf tables first; a statement that would break a foreign key is skipped)
and every numeric column of the rest is shifted. Counts, sums, averages and "exists" answers over
foreign data all change; nothing in the kept tenants does.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

NUMERIC = ("numeric", "integer", "bigint", "smallint", "double precision", "real")


def perturb(admin_dsn: str, tenant_columns: dict[str, str | None], keep: frozenset[str]) -> dict[str, int]:
    """Perturb every tenant not in ``keep``; returns rows deleted or updated per table."""
    touched: dict[str, int] = {}
    keep_list = sorted(keep)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        tables = [(t, c) for t, c in tenant_columns.items() if c]
        for table, column in reversed(tables):
            touched[table] = touched.get(table, 0) + _run(conn, sql.SQL(
                "DELETE FROM {t} x WHERE NOT ({c}::text = ANY(%s)) AND abs(hashtext(x::text)) % 3 = 0").format(
                t=sql.Identifier(table), c=sql.Identifier(column)), [keep_list])
        for table, column in tables:
            cur = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s AND data_type = ANY(%s) AND column_name <> %s", [table, list(NUMERIC), column])
            for (col,) in cur.fetchall():
                for shift in ("{col} + 1", "{col} - 1"):
                    n = _run(conn, sql.SQL("UPDATE {t} SET {col} = " + shift + " WHERE NOT ({c}::text = ANY(%s))").format(
                        t=sql.Identifier(table), c=sql.Identifier(column), col=sql.Identifier(col)), [keep_list])
                    if n:
                        touched[table] = touched.get(table, 0) + n
                        break
    return touched


def _run(conn, statement, params) -> int:
    try:
        with conn.transaction():
            return conn.execute(statement, params).rowcount
    except psycopg.Error:
        return 0
