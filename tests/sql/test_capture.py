"""Statement capture on the run's own PostgreSQL: exact text, parameters, role, rows, per take.

Real server, real roles: statements are sent on Phoenix's own roles (phoenix_app under RLS,
phoenix_reporting with BYPASSRLS) to a clone of the seeded template.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from harness.sql.capture import StatementCapture, parse_parameters


def needs_log(server):
    if not hasattr(server, "log_consumers"):
        pytest.skip(f"the statement log is read on the embedded server only (this run uses {server.kind})")


def test_the_parser_expects_the_prefix_the_embedded_server_is_started_with():
    from harness.db.embedded import LOG_LINE_PREFIX
    from harness.sql._log import EXPECTED_PREFIX

    assert EXPECTED_PREFIX == LOG_LINE_PREFIX


def test_parse_parameters_reads_the_servers_detail_line():
    assert parse_parameters("$1 = '1', $2 = NULL, $3 = 'it''s, $4 = x'") == ("1", None, "it's, $4 = x")
    assert parse_parameters("$1 = 'multi\nline', $2 = '{a,b}'") == ("multi\nline", "{a,b}")
    assert parse_parameters("") == ()


def test_each_take_holds_exactly_the_statements_since_the_last(pg_server, phoenix_db):
    needs_log(pg_server)
    tenant = phoenix_db.dataset.tables["tenants"][0]["id"]
    mine = [p for p in phoenix_db.dataset.tables["projects"] if p["tenant_id"] == tenant]

    async def run():
        capture = await StatementCapture.start(pg_server, phoenix_db.name)
        assert (capture.available, capture.method, capture.reason) == (True, "pg_stat_statements+log", "")
        try:
            async with await psycopg.AsyncConnection.connect(phoenix_db.app_dsn, autocommit=True) as app, \
                    await psycopg.AsyncConnection.connect(phoenix_db.reporting_dsn, autocommit=True) as rep:
                async with app.transaction():
                    await app.execute("SELECT set_config('app.tenant_ids', %s, true)", [tenant])
                    await app.execute("SELECT name FROM projects WHERE tenant_id = ANY(%s::uuid[]) AND code <> %s",
                                      [[tenant], "none"])
                first = await capture.take()
                assert await capture.take() == []  # nothing ran in between

                multi = "SELECT t.name\n  FROM tenants t\n WHERE t.name <> %s  -- Zoë's report"
                for _ in range(3):
                    await rep.execute(multi, ["Zoë's"])
                await rep.execute("SELECT count(*) FROM customers")  # no parameters: simple protocol
                second = await capture.take()
        finally:
            await capture.close()
        return first, second

    first, second = asyncio.run(run())
    assert [s.text for s in first] == [
        "BEGIN", "SELECT set_config('app.tenant_ids', $1, true)",
        "SELECT name FROM projects WHERE tenant_id = ANY($1::uuid[]) AND code <> $2", "COMMIT"]
    select = first[2]
    assert (select.role, select.calls, select.rows, select.source) == ("phoenix_app", 1, len(mine), "log")
    assert select.params == ("{" + tenant + "}", "none")
    assert select.normalized == "SELECT name FROM projects WHERE tenant_id = ANY($1::uuid[]) AND code <> $2"

    by_text = {s.text: s for s in second}
    repeated = by_text["SELECT t.name\n  FROM tenants t\n WHERE t.name <> $1  -- Zoë's report"]
    n_tenants = len(phoenix_db.dataset.tables["tenants"])
    assert (repeated.role, repeated.calls, repeated.rows, repeated.params) == ("phoenix_reporting", 3, 3 * n_tenants, ("Zoë's",))
    simple = by_text["SELECT count(*) FROM customers"]
    assert (simple.role, simple.calls, simple.rows) == ("phoenix_reporting", 1, 1)  # matched on its fingerprint


def test_close_switches_logging_off_again(pg_server, phoenix_db):
    needs_log(pg_server)

    async def run():
        capture = await StatementCapture.start(pg_server, phoenix_db.name)
        on = _db_settings(pg_server, phoenix_db.name)
        await capture.close()
        await capture.close()  # idempotent
        return capture, on

    capture, on = asyncio.run(run())
    assert sorted(on) == ["log_statement=all", "pg_stat_statements.track=top"]
    assert _db_settings(pg_server, phoenix_db.name) == []
    with pytest.raises(RuntimeError, match="after close"):
        asyncio.run(capture.take())


def _db_settings(server, dbname):
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                           "WHERE d.datname = %s AND s.setrole = 0", [dbname]).fetchone()
    return list(row[0]) if row else []


def test_a_session_opened_before_start_is_reported_not_captured(pg_server, phoenix_db):
    """Both sources are switched on per database (ALTER DATABASE): they reach sessions opened later."""
    needs_log(pg_server)

    async def run():
        async with await psycopg.AsyncConnection.connect(phoenix_db.reporting_dsn, autocommit=True) as early:
            capture = await StatementCapture.start(pg_server, phoenix_db.name)
            try:
                await early.execute("SELECT id FROM invoices WHERE status = %s", ["paid"])
                async with await psycopg.AsyncConnection.connect(phoenix_db.reporting_dsn, autocommit=True) as late:
                    await late.execute("SELECT id FROM invoices WHERE status = %s", ["void"])
                return capture.preexisting_sessions, await capture.take()
            finally:
                await capture.close()

    preexisting, taken = asyncio.run(run())
    void = sum(1 for i in phoenix_db.dataset.tables["invoices"] if i["status"] == "void")
    assert preexisting == 1
    assert [(s.text, s.params, s.rows) for s in taken] == [("SELECT id FROM invoices WHERE status = $1", ("void",), void)]


def test_a_server_given_by_dsn_degrades_to_counters_or_says_why(pg_server, phoenix_db):
    async def run():
        by_dsn = await StatementCapture.start(pg_server.admin_dsn, phoenix_db.name)
        state = (by_dsn.available, by_dsn.method, by_dsn.reason)
        try:
            async with await psycopg.AsyncConnection.connect(phoenix_db.app_dsn, autocommit=True) as app:
                await app.execute("SELECT count(*) FROM tags WHERE name <> 'x'")
            taken = await by_dsn.take()
        finally:
            await by_dsn.close()
        nothing = await StatementCapture.start(pg_server.admin_dsn, phoenix_db.name, counters=False)
        missing = await StatementCapture.start(pg_server, "no_such_database")
        return state, taken, nothing, missing

    (available, method, reason), taken, nothing, missing = asyncio.run(run())
    if available:
        assert method == "pg_stat_statements" and "only read on the embedded server" in reason
        assert [(s.text, s.role, s.rows, s.source) for s in taken] == [
            ("SELECT count(*) FROM tags WHERE name <> $1", "phoenix_app", 1, "pg_stat_statements")]
    else:
        assert reason.startswith("capture unavailable: ") and "shared_preload_libraries" in reason
    assert not nothing.available
    assert nothing.reason.startswith("capture unavailable: ") and "embedded server" in nothing.reason
    assert not missing.available and missing.reason == "capture unavailable: no database 'no_such_database'"
