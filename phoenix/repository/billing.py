"""Invoices and their lines; the invoice export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from phoenix.repository.base import Scope
from phoenix.repository.errors import Conflict, NotFound
from phoenix.repository.tables import CUSTOMERS, INVOICE_LINES, INVOICES, PROJECTS


async def get_invoice(scope: Scope, invoice_id) -> dict:
    if scope.db.fault("idor-get"):
        # Planted (idor-get): the detail view reads the invoice from the reporting connection (where
        # the denormalised totals live), by primary key only; that role is BYPASSRLS.
        async with scope.db.reporting_transaction(scope.principal) as conn:
            row = await (await conn.execute(
                sql.SQL("SELECT {} FROM invoices WHERE id = %s").format(INVOICES.select_list()),
                [str(invoice_id)])).fetchone()
    else:
        row = await INVOICES.get(scope, invoice_id)
    if row is None:
        raise NotFound("invoice")
    return row


async def create_invoice(scope: Scope, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> dict:
    async with scope.tx():
        if not await CUSTOMERS.exists(scope, values["customer_id"]):
            raise NotFound("customer")
        if values.get("project_id") is not None and not await PROJECTS.exists(scope, values["project_id"]):
            raise NotFound("project")
        amounts = [_amount(line) for line in lines]
        try:
            invoice = await INVOICES.insert(scope, {**values, "total": sum(amounts, Decimal(0))})
        except psycopg.errors.UniqueViolation:
            raise Conflict("an invoice with this number already exists") from None
        for line, amount in zip(lines, amounts):
            await INVOICE_LINES.insert(scope, {**line, "invoice_id": invoice["id"], "amount": amount})
        return invoice


async def update_invoice(scope: Scope, invoice_id, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        if await INVOICES.get(scope, invoice_id) is None:
            raise NotFound("invoice")
        if values.get("project_id") is not None:
            await _check_project_reference(scope, values["project_id"])
        try:
            return await INVOICES.update(scope, invoice_id, values)
        except psycopg.errors.UniqueViolation:
            raise Conflict("an invoice with this number already exists") from None
        except psycopg.errors.ForeignKeyViolation:
            raise NotFound("project") from None  # deleted since the check


async def _check_project_reference(scope: Scope, project_id) -> None:
    """The project must be one the caller can see; another tenant's is answered like an unknown one
    (404). The foreign key alone would accept it: FK checks ignore RLS."""
    if scope.db.fault("invoice-project-reference-unchecked"):
        # Planted (invoice-project-reference-unchecked): the pre-check was dropped as a redundant
        # round trip, "the foreign key rejects unknown projects" (mapped to 404 in update_invoice).
        # It does, but it sees every tenant's projects: a foreign project id is accepted.
        return
    if not await PROJECTS.exists(scope, project_id):
        raise NotFound("project")


async def list_lines(scope: Scope, invoice_id, **kw):
    async with scope.tx():
        if await INVOICES.get(scope, invoice_id) is None:
            raise NotFound("invoice")
        return await INVOICE_LINES.list(scope, **{**kw, "filters": {"invoice_id": invoice_id}})


async def export_invoices(scope: Scope, *, filters: Mapping[str, Any], q: str | None = None) -> list[dict]:
    if scope.db.fault("export-unfiltered"):
        # Planted (export-unfiltered): exports are heavy, so they run on the reporting connection
        # (BYPASSRLS); the export query reuses the list's filters but was never given the tenants.
        where, params = INVOICES.where(None, filters, q)
        async with scope.db.reporting_transaction(scope.principal) as conn:
            return await (await conn.execute(
                sql.SQL("SELECT {} FROM invoices").format(INVOICES.select_list()) + where
                + INVOICES.order_by("issued_on", "asc") + sql.SQL(" LIMIT 10000"), params)).fetchall()
    return await INVOICES.all(scope, filters=filters, q=q, sort="issued_on")


def _amount(line: Mapping[str, Any]) -> Decimal:
    return (Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"]))).quantize(Decimal("0.01"))
