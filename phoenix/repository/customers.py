"""Customers: the list, and creation with the per-tenant e-mail rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import Conflict, NotFound
from phoenix.repository.tables import CUSTOMERS


async def list_customers(scope: Scope, *, filters: Mapping[str, Any], q: str | None, sort: str | None,
                         order: str | None, limit: int, offset: int) -> Page:
    if scope.db.fault("list-unfiltered"):
        return await _list_on_reporting(scope, filters, q, sort, order, limit, offset)
    return await CUSTOMERS.list(scope, filters=filters, q=q, sort=sort, order=order, limit=limit, offset=offset)


async def _list_on_reporting(scope, filters, q, sort, order, limit, offset) -> Page:
    # Planted (list-unfiltered): the big customer list was moved to the reporting connection to take
    # load off the primary. That role is BYPASSRLS, and this WHERE is built without the tenant set
    # (`where(None, …)`), so nothing filters the rows any more.
    where, params = CUSTOMERS.where(None, filters, q)
    async with scope.db.reporting_transaction(scope.principal) as conn:
        rows = await (await conn.execute(
            sql.SQL("SELECT {} FROM customers").format(CUSTOMERS.select_list()) + where
            + CUSTOMERS.order_by(sort, order) + sql.SQL(" LIMIT %s OFFSET %s"),
            [*params, limit, offset])).fetchall()
        total = await CUSTOMERS.count(conn, where, params)
    return Page(rows, total, offset, limit)


async def export_customers(scope: Scope, *, filters: Mapping[str, Any], q: str | None) -> tuple[list[dict], int]:
    """The export's rows (capped) and how many customers match in all (its ``X-Total-Count``)."""
    async with scope.tx():
        rows = await CUSTOMERS.all(scope, filters=filters, q=q, sort="name")
        if scope.db.fault("export-total-header-all-tenants"):
            return rows, await _count_on_reporting(scope, filters, q)
        return rows, await CUSTOMERS.count_matching(scope, filters=filters, q=q)


async def _count_on_reporting(scope: Scope, filters: Mapping[str, Any], q: str | None) -> int:
    # Planted (export-total-header-all-tenants): count(*) over customers was slow on the primary, so
    # the export's X-Total-Count is counted on the reporting connection (BYPASSRLS) with the export's
    # filters, built with `where(None, …)`: the file is right, the header counts every tenant's rows.
    where, params = CUSTOMERS.where(None, filters, q)
    async with scope.db.reporting_transaction(scope.principal) as conn:
        return await CUSTOMERS.count(conn, where, params)


async def create_customer(scope: Scope, values: dict[str, Any]) -> dict:
    target = values.pop("tenant_id", None)
    if target is not None and scope.db.fault("mass-assignment-tenant"):
        # Planted (mass-assignment-tenant): the "create on behalf of a subsidiary" path honours the
        # body's tenant_id and opens the transaction in *that* tenant's context, so RLS WITH CHECK
        # accepts the foreign row.
        async with scope.db.tenant_transaction(scope.principal, tenants=[str(target)]) as conn:
            inner = Scope(scope.db, scope.principal, conn)
            return await _insert(inner, values, tenant_id=str(target))
    return await _insert(scope, values)


async def _insert(scope: Scope, values: Mapping[str, Any], tenant_id: str | None = None) -> dict:
    try:
        return await CUSTOMERS.insert(scope, values, tenant_id=tenant_id)
    except psycopg.errors.UniqueViolation:
        raise Conflict("a customer with this e-mail already exists") from None


async def update_customer(scope: Scope, customer_id, values: Mapping[str, Any]) -> dict:
    try:
        row = await CUSTOMERS.update(scope, customer_id, values)
    except psycopg.errors.UniqueViolation:
        raise Conflict("a customer with this e-mail already exists") from None
    if row is None:
        raise NotFound("customer")
    return row


async def delete_customer(scope: Scope, customer_id) -> None:
    try:
        deleted = await CUSTOMERS.delete(scope, customer_id)
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict("the customer still has projects or invoices") from None
    if not deleted:
        raise NotFound("customer")

