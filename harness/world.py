"""The world: every tenant's synthetic rows, built from one seed and written with COPY.

A scenario generates the rows (``dict[table, list[row]]`` in foreign-key order); the harness writes
them once into a template database, then clones the template (``CREATE DATABASE … TEMPLATE``) for
each run, worker or twin: cloning a 200-row or a 200,000-row world costs the same file copy.

Rows carry their keys explicitly (a world is the same byte for byte from a seed), and COPY never calls
``nextval()``: a serial or identity column's sequence would still hand out 1 and the app's first
INSERT would collide with a seeded row. So after the world is written every sequence owned by a column
is moved past the largest value in that column (:func:`advance_sequences`), from the catalogue alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from psycopg import sql

Rows = Mapping[str, Sequence[Mapping]]


@dataclass
class World:
    seed: int
    tables: dict[str, list[dict]]
    #: Which column names the owning tenant, per table (None: global reference data).
    tenant_columns: dict[str, str | None] = field(default_factory=dict)
    #: Rows owned by a group of tenants rather than one (e.g. a client's row, visible to its subsidiaries):
    #: table -> (column holding the group key, mapping group key -> tenant ids).
    group_owners: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = field(default_factory=dict)
    #: Whatever else the scenario needs to describe tenants and principals (e.g. their logins).
    meta: dict = field(default_factory=dict, compare=False)

    def fingerprint(self) -> str:
        """A digest of every row: the same seed must give the same fingerprint, byte for byte."""
        h = hashlib.sha256()
        for table, rows in self.tables.items():
            h.update(table.encode())
            for row in rows:
                h.update(json.dumps(row, sort_keys=True, default=str).encode())
        return h.hexdigest()


def write_tables(conn, tables: Rows) -> int:
    """COPY every table's rows, in the given order; returns the number of rows written."""
    total = 0
    for table, rows in tables.items():
        if not rows:
            continue
        columns = list(rows[0].keys())
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        with conn.cursor() as cur, cur.copy(stmt) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        total += len(rows)
    return total


_OWNED_SEQUENCES = """
SELECT s.oid::regclass::text, t.oid::regclass::text, a.attname, q.seqincrement, q.seqmin, q.seqmax
FROM pg_class s
JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND format_type(a.atttypid, NULL) IN ('smallint', 'integer', 'bigint')
ORDER BY 1
"""


def advance_sequences(conn) -> dict[str, int]:
    """Move every sequence owned by a column (serial, identity) past the largest value in that column.

    Never moves a sequence back, leaves empty columns and descending sequences alone; returns
    sequence -> the value it now last handed out, for the ones it moved.
    """
    moved = {}
    for seq, table, column, step, low, high in conn.execute(_OWNED_SEQUENCES).fetchall():
        if step < 0:
            continue
        top = conn.execute(sql.SQL("SELECT max({}) FROM {}").format(
            sql.Identifier(column), sql.SQL(table))).fetchone()[0]
        last, called = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(seq))).fetchone()
        current = last if called else last - step
        if top is None or top <= current:
            continue
        value = min(max(top, low), high)
        conn.execute("SELECT setval(%s::regclass, %s, true)", [seq, value])
        moved[seq] = value
    return moved


def seed_template(server, scenario, world: World, name: str) -> str:
    """Create database ``name``, install the scenario's schema, COPY the world in and advance the
    sequences past it; returns its superuser DSN. Runs, twins, reproductions and benchmarks all clone
    such a template."""
    import psycopg

    admin = server.create_database(name)
    scenario.install(admin)
    with psycopg.connect(admin) as conn:
        write_tables(conn, world.tables)
        advance_sequences(conn)
    return admin
