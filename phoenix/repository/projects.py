"""Projects: paged list, batch get, writes with reference checks, and the per-project summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import Conflict, NotFound
from phoenix.repository.tables import CUSTOMERS, PROJECTS, USERS


async def list_projects(scope: Scope, *, filters: Mapping[str, Any], q: str | None, sort: str | None,
                        order: str | None, limit: int, offset: int) -> Page:
    page = await PROJECTS.list(scope, filters=filters, q=q, sort=sort, order=order, limit=limit, offset=offset)
    if scope.db.fault("pagination-total-cross-tenant"):
        # Planted (pagination-total-cross-tenant): count(*) was slow on the primary, so the total is
        # counted on the reporting connection (BYPASSRLS) — with the filters but without the tenants.
        where, params = PROJECTS.where(None, filters, q)
        async with scope.db.reporting_transaction(scope.principal) as conn:
            page = Page(page.items, await PROJECTS.count(conn, where, params), page.offset, page.limit)
    return page


async def batch_get(scope: Scope, ids: Sequence[str]) -> list[dict]:
    """Every requested project, or NotFound if any one is not visible (no partial answers)."""
    if scope.db.fault("batch-get-first-only"):
        # Planted (batch-get-first-only): authorise on the first id, then bulk-load all of them with
        # the shared loader on the reporting connection, which neither filters nor is subject to RLS.
        if await PROJECTS.get(scope, ids[0]) is None:
            raise NotFound("project")
        async with scope.db.reporting_transaction(scope.principal) as conn:
            rows = await (await conn.execute(
                sql.SQL("SELECT {} FROM projects WHERE id = ANY(%s::uuid[]) ORDER BY id").format(
                    PROJECTS.select_list()), [list(ids)])).fetchall()
    else:
        rows = await PROJECTS.get_many(scope, ids)
    if len(rows) != len(set(ids)):
        raise NotFound("project")
    order = {i: n for n, i in enumerate(ids)}
    return sorted(rows, key=lambda r: order.get(str(r["id"]), 0))


async def check_references(scope: Scope, values: Mapping[str, Any]) -> None:
    """A foreign key in a body must name an object this principal can see (404 otherwise): the
    database's own FK check would happily accept another tenant's id."""
    if values.get("customer_id") is not None and not await CUSTOMERS.exists(scope, values["customer_id"]):
        raise NotFound("customer")
    if values.get("owner_id") is not None and not await USERS.exists(scope, values["owner_id"]):
        raise NotFound("user")


async def create_project(scope: Scope, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        await check_references(scope, values)
        try:
            return await PROJECTS.insert(scope, values)
        except psycopg.errors.UniqueViolation:
            raise Conflict("a project with this code already exists") from None


async def update_project(scope: Scope, project_id, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        if await PROJECTS.get(scope, project_id) is None:
            raise NotFound("project")
        await check_references(scope, values)
        try:
            return await PROJECTS.update(scope, project_id, values)
        except psycopg.errors.UniqueViolation:
            raise Conflict("a project with this code already exists") from None


async def delete_project(scope: Scope, project_id) -> None:
    if not await PROJECTS.delete(scope, project_id):
        raise NotFound("project")


_SUMMARY = """
SELECT p.id, p.tenant_id, p.code, p.name, p.budget, p.currency_code,
       (SELECT count(*) FROM tasks t WHERE t.tenant_id = ANY(%(t)s::uuid[]) AND t.project_id = p.id) AS tasks_total,
       (SELECT count(*) FROM tasks t WHERE t.tenant_id = ANY(%(t)s::uuid[]) AND t.project_id = p.id
                                      AND t.status <> 'done') AS tasks_open,
       (SELECT coalesce(sum(e.hours), 0) FROM time_entries e
         WHERE e.tenant_id = ANY(%(t)s::uuid[]) AND e.project_id = p.id) AS hours_logged,
       (SELECT coalesce(sum(e.hours), 0) FROM time_entries e
         WHERE e.tenant_id = ANY(%(t)s::uuid[]) AND e.project_id = p.id AND e.billable) AS billable_hours,
       (SELECT coalesce(sum(i.total), 0) FROM invoices i
         WHERE i.tenant_id = ANY(%(t)s::uuid[]) AND i.project_id = p.id AND i.status <> 'void') AS invoiced,
       (SELECT coalesce(sum(pay.amount), 0) FROM payments pay JOIN invoices i ON i.id = pay.invoice_id
         WHERE pay.tenant_id = ANY(%(t)s::uuid[]) AND i.tenant_id = ANY(%(t)s::uuid[])
           AND i.project_id = p.id) AS paid
  FROM projects p
 WHERE p.tenant_id = ANY(%(t)s::uuid[]) AND p.id = %(id)s
"""


async def project_summary(scope: Scope, project_id) -> dict:
    async with scope.tx() as conn:
        row = await (await conn.execute(_SUMMARY, {"t": scope.tenants, "id": str(project_id)})).fetchone()
    if row is None:
        raise NotFound("project")
    budget = float(row["budget"])
    return {**row, "budget_used": round(float(row["invoiced"]) / budget, 4) if budget else 0.0}
