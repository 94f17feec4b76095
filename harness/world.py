"""The world: every tenant's synthetic rows, built from one seed and written with COPY.

A scenario generates the rows (``dict[table, list[row]]`` in foreign-key order); the harness writes
them once into a template database, then clones the template (``CREATE DATABASE … TEMPLATE``) for
each run, worker or twin: cloning a 200-row or a 200,000-row world costs the same file copy.
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


def seed_template(server, scenario, world: World, name: str) -> str:
    """Create database ``name``, install the scenario's schema and COPY the world in; returns its
    superuser DSN. Runs, twins, reproductions and benchmarks all clone such a template."""
    import psycopg

    admin = server.create_database(name)
    scenario.install(admin)
    with psycopg.connect(admin) as conn:
        write_tables(conn, world.tables)
    return admin
