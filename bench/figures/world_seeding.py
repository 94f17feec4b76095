"""Figure 3: seeding the world with COPY vs a plain ``executemany`` INSERT, and what a clone costs.

The same scaled-up Phoenix world is written into two freshly installed databases, once with
``harness.world.write_tables`` (COPY) and once with one ``executemany`` INSERT per table (psycopg 3,
which pipelines it). Then the COPY-seeded database is cloned with ``CREATE DATABASE … TEMPLATE``, the
operation every run, worker and twin pays instead of seeding again.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from bench.figures.support import Context, clock, db_name, measure, median, result
from harness.world import write_tables

NUMBER, NAME = 3, "world_seeding"
TITLE = "World seeding: COPY rows/s vs executemany INSERT rows/s; template clone time"


def run(ctx: Context) -> dict:
    from scenarios.phoenix import PhoenixScenario

    size = dict(clients=2, subsidiaries=2, scale=1) if ctx.quick else dict(clients=4, subsidiaries=5, scale=10)
    clones = 2 if ctx.quick else 5
    scenario = PhoenixScenario(**size)
    t = clock()
    world = scenario.generate_world(ctx.seed)
    generate_s = clock() - t
    rows = sum(map(len, world.tables.values()))
    server = ctx.server
    created: list[str] = []
    try:
        copy_db, insert_db = db_name("copy"), db_name("insert")
        seconds, installs = {}, {}
        for name, writer in ((copy_db, write_tables), (insert_db, insert_tables)):
            admin = server.create_database(name)
            created.append(name)
            t = clock()
            scenario.install(admin)
            installs[writer.__name__] = clock() - t
            with psycopg.connect(admin) as conn:
                t = clock()
                writer(conn, world.tables)
                conn.commit()
                seconds[writer.__name__] = clock() - t
        _check_same_rows(server, copy_db, insert_db, world.tables)
        clone_times = []
        for _ in range(clones):
            name = db_name("clone")
            t = clock()
            server.create_database(name, template=copy_db)
            clone_times.append(clock() - t)
            server.drop_database(name)
    finally:
        for name in created:
            server.drop_database(name)
    copy_rate, insert_rate = rows / seconds["write_tables"], rows / seconds["insert_tables"]
    clone_s = median(clone_times)
    install_s = installs["write_tables"]
    return result(
        NUMBER, NAME, TITLE,
        measure(copy_rate, "rows/s", "COPY"), measure(insert_rate, "rows/s", "executemany INSERT"),
        copy_rate / insert_rate, "COPY rate / INSERT rate (higher is better)",
        world=size, rows=rows, tables=sum(1 for r in world.tables.values() if r),
        generate_world_s=round(generate_s, 3), install_s=round(install_s, 3),
        copy_s=round(seconds["write_tables"], 3), insert_s=round(seconds["insert_tables"], 3),
        clone_median_s=round(clone_s, 4), clone_runs_s=[round(x, 4) for x in clone_times],
        clone_vs_install_and_copy=round(clone_s / (install_s + seconds["write_tables"]), 4),
        note="install (schema, roles, RLS) is not in either rate; clone_vs_install_and_copy is the clone "
             "time as a share of building the same database from scratch with COPY")


def insert_tables(conn, tables) -> int:
    """The baseline: one ``executemany`` INSERT per table, in the given order."""
    total = 0
    for table, rows in tables.items():
        if not rows:
            continue
        columns = list(rows[0].keys())
        stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)))
        with conn.cursor() as cur:
            cur.executemany(stmt, [[row[c] for c in columns] for row in rows])
        total += len(rows)
    return total


def _check_same_rows(server, a: str, b: str, tables) -> None:
    """Both databases hold every row: otherwise the two rates would not measure the same work."""
    counts = []
    for name in (a, b):
        with psycopg.connect(server.dsn(name)) as conn:
            counts.append({t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
                           for t, rows in tables.items() if rows})
    if counts[0] != counts[1]:
        raise RuntimeError(f"COPY and INSERT databases differ: {counts[0]} vs {counts[1]}")
