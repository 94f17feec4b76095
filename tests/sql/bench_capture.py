"""What statement capture costs per in-process Phoenix request (run by hand, not collected by pytest).

    .venv/bin/python -m tests.sql.bench_capture [requests-per-variant]

Four clones of one seeded Phoenix on one embedded server: no capture, the statement log only,
pg_stat_statements only, both. Requests are interleaved in blocks of 25 over the four, so that load
from other processes on a shared machine hits every variant alike. Then the cost of ``take()`` alone
(nothing ran since the last one), with pg_stat_statements holding few entries and then 3,000 more,
and the cost of loading pg_stat_statements at all (a second server started without it).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

import httpx
import psycopg

from harness.db import embedded
from harness.db.embedded import EmbeddedPostgres
from harness.sql.capture import StatementCapture
from tests.conftest import build_phoenix_database

PATH = "/api/dashboard/projects"
BLOCK = 25
VARIANTS = {"none": None, "log": {"log": True, "counters": False},
            "pg_stat_statements": {"log": False, "counters": True}, "log+pg_stat_statements": {}}


async def _client(server, dbname, dataset):
    from phoenix.app import create_app

    app = create_app(server.dsn(dbname, "phoenix_app", "phoenix_app"), secret="bench")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phoenix")
    login = next(l for l in dataset.logins if l.role == "admin")
    r = await client.post("/api/auth/login", json={"email": login.email, "password": login.password})
    return app, client, {"Authorization": f"Bearer {r.json()['access_token']}"}


async def requests(server, dataset, n: int, variants=VARIANTS) -> dict[str, tuple[float, float, float]]:
    """variant -> (ms per request incl. take, ms in take, statements per request)."""
    setups = {}
    for name, options in variants.items():
        dbname = "bench_" + "".join(c if c.isalnum() else "_" for c in name)
        server.create_database(dbname, template="bench_template")
        capture = await StatementCapture.start(server, dbname, **options) if options is not None else None
        app, client, headers = await _client(server, dbname, dataset)
        for _ in range(20):  # warm up: pool, prepared statements, caches
            await client.get(PATH, headers=headers)
        if capture:
            await capture.take()
        setups[name] = (capture, app, client, headers)
    spent = dict.fromkeys(variants, 0.0)
    taking = dict.fromkeys(variants, 0.0)
    statements = dict.fromkeys(variants, 0)
    for _ in range(n // BLOCK):
        for name, (capture, _, client, headers) in setups.items():
            t0 = time.perf_counter()
            for _ in range(BLOCK):
                assert (await client.get(PATH, headers=headers)).status_code == 200
                if capture:
                    t1 = time.perf_counter()
                    statements[name] += len(await capture.take())
                    taking[name] += time.perf_counter() - t1
            spent[name] += time.perf_counter() - t0
    for capture, app, client, _ in setups.values():
        await client.aclose()
        await app.state.db.close()
        if capture:
            await capture.close()
    done = n // BLOCK * BLOCK
    return {k: (spent[k] / done * 1e3, taking[k] / done * 1e3, statements[k] / done) for k in variants}


async def bare_takes(server, dbname: str, n: int) -> dict[str, float]:
    """ms per take() with nothing in between, per source."""
    out = {}
    for name, options in list(VARIANTS.items())[1:]:
        capture = await StatementCapture.start(server, dbname, **options)
        t0 = time.perf_counter()
        for _ in range(n):
            await capture.take()
        out[name] = (time.perf_counter() - t0) / n * 1e3
        await capture.close()
    return out


def fill_pg_stat_statements(server, count: int) -> int:
    """``count`` distinct statements tracked in another database (as on a server that tracks every
    database); return the server's entry count."""
    server.create_database("bench_filler")
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute("ALTER DATABASE bench_filler SET pg_stat_statements.track = 'top'")
    with psycopg.connect(server.dsn("bench_filler"), autocommit=True) as conn:
        for i in range(count):
            conn.execute(f"SET application_name = 'bench{i}'")  # utility statements: one id per text
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()[0]


def main(n: int) -> None:
    os.environ.pop("PHOENIX_FAULTS", None)
    os.environ["PHOENIX_POOL_SIZE"] = "1"
    server = EmbeddedPostgres().start()
    try:
        template = build_phoenix_database(server, "bench_template")
        print(f"{n} GET {PATH} per variant, interleaved in blocks of {BLOCK}:")
        results = asyncio.run(requests(server, template.dataset, n))
        base = results["none"][0]
        for name, (ms, take_ms, per) in results.items():
            print(f"  {name:24s} {ms:7.3f} ms/request  {ms - base:+6.3f} ms ({(ms / base - 1) * 100:+5.1f}%)"
                  f"  take() {take_ms:6.3f} ms  statements/request {per:.2f}")
        print(f"take() alone, {n} times:")
        for name, ms in asyncio.run(bare_takes(server, "bench_template", n)).items():
            print(f"  {name:24s} {ms:.3f} ms")
        entries = fill_pg_stat_statements(server, 3000)
        print(f"take() alone with {entries} pg_stat_statements entries on the server:")
        for name, ms in asyncio.run(bare_takes(server, "bench_template", n)).items():
            print(f"  {name:24s} {ms:.3f} ms")
    finally:
        server.stop()
    # The price of loading pg_stat_statements at server start, capture or not.
    original = embedded._capture_options
    embedded._capture_options = lambda bindir: [o for o in original(bindir) if "shared_preload" not in o][:2]
    try:
        plain = EmbeddedPostgres().start()
    finally:
        embedded._capture_options = original
    loaded = EmbeddedPostgres().start()
    try:
        datasets = {id(s): build_phoenix_database(s, "bench_template").dataset for s in (plain, loaded)}
        ms: dict[str, list[float]] = {"without": [], "with": []}
        for round_ in range(3):  # alternate the two servers
            for label, server in (("without", plain), ("with", loaded)):
                got = asyncio.run(requests(server, datasets[id(server)], n // 3, {f"none_{label}_{round_}": None}))
                ms[label].append(next(iter(got.values()))[0])
        print("no capture, server without / with pg_stat_statements loaded: "
              f"{statistics.median(ms['without']):.3f} / {statistics.median(ms['with']):.3f} ms/request")
    finally:
        plain.stop()
        loaded.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
