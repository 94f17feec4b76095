"""Run a report: validate its parameters, set the tenant context, execute, return JSON-ready rows.

Used by the HTTP API (async) and directly by the harness, which runs every report in the database
"as the app does" — so this module needs nothing from the web app.

Row values are made JSON-friendly one way only: ``Decimal`` → ``float`` (amounts are rounded to 2
places in SQL), ``date``/``datetime`` → ISO 8601 strings, ``UUID`` → ``str``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from psycopg.rows import dict_row

from phoenix.reporting.catalogue import REPORTS
from phoenix.reporting.report import Report
from phoenix.tenancy import set_tenant_context

#: A report is interactive; anything slower is a bug or an attack, not a report.
STATEMENT_TIMEOUT = "30s"


class UnknownReport(KeyError):
    """No report of that name (the API's 404)."""


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None


def prepare(name: str, params: dict | None, tenant_ids: Sequence[str]) -> tuple[Report, str, dict]:
    """Resolve, validate and bind: the report, its SQL, and the query arguments."""
    report = get_report(name)
    values = report.validate(params)
    tenants = [str(uuid.UUID(str(t))) for t in tenant_ids]
    if not tenants:
        raise ValueError("a report needs at least one tenant")
    return report, report.sql, {**values, "tenant_ids": tenants}


def run_report(conn, name: str, params: dict | None, tenant_ids: Sequence[str]) -> list[dict]:
    """Run report ``name`` for ``tenant_ids`` on a sync psycopg connection, in its own transaction."""
    _, query, args = prepare(name, params, tenant_ids)
    with conn.transaction():
        set_tenant_context(conn, args["tenant_ids"])
        conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, args)
            rows = cur.fetchall()
    return [jsonable(r) for r in rows]


async def run_report_async(aconn, name: str, params: dict | None, tenant_ids: Sequence[str]) -> list[dict]:
    """The same on an async psycopg connection (nested in the caller's transaction if it has one)."""
    _, query, args = prepare(name, params, tenant_ids)
    async with aconn.transaction():
        # The statement of phoenix.tenancy.set_tenant_context, awaited (that helper is sync-only).
        await aconn.execute("SELECT set_config('app.tenant_ids', %s, true)", [",".join(args["tenant_ids"])])
        await aconn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        async with aconn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, args)
            rows = await cur.fetchall()
    return [jsonable(r) for r in rows]


def jsonable(row: dict) -> dict:
    return {k: _value(v) for k, v in row.items()}


def _value(v):
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    return v
