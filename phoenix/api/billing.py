"""Invoices and their lines: list, export, get, create, update, lines (6 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import (CONFLICT, CSV_RESPONSE, ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ,
                                created, csv_response, listing, paging, patch_values, sort_param)
from phoenix.api.models import InvoiceIn, InvoiceLineOut, InvoiceOut, InvoicePatch, InvoiceStatus
from phoenix.repository import billing as repo
from phoenix.repository.tables import INVOICES

router = APIRouter(prefix="/api/dashboard", tags=["billing"], responses=ERRORS)
SortInvoices = sort_param(INVOICES.sortable)
EXPORT_COLUMNS = ["id", "tenant_id", "number", "status", "customer_id", "project_id", "currency_code",
                  "issued_on", "due_on", "total"]


@router.get("/invoices", response_model=ListOut[InvoiceOut], summary="List invoices")
async def list_invoices(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None,
                        status: Annotated[InvoiceStatus | None, Query()] = None,
                        customer_id: Annotated[uuid.UUID | None, Query()] = None,
                        sort: SortInvoices = "issued_on", order: Order = "desc"):
    return listing(await INVOICES.list(scope, filters={"status": status, "customer_id": customer_id}, q=q,
                                       sort=sort, order=order, limit=page.limit, offset=page.offset), page)


@router.get("/invoices/export", response_class=Response, responses=CSV_RESPONSE,
            summary="Export invoices as CSV")
async def export_invoices(scope: ScopeDep, status: Annotated[InvoiceStatus | None, Query()] = None,
                          customer_id: Annotated[uuid.UUID | None, Query()] = None):
    filters = {"status": status, "customer_id": customer_id}
    async with scope.tx():
        rows = await repo.export_invoices(scope, filters=filters)
        total = await INVOICES.count_matching(scope, filters=filters)
    return csv_response(rows, EXPORT_COLUMNS, "invoices.csv", total=total)


@router.post("/invoices", response_model=InvoiceOut, status_code=http.HTTP_201_CREATED, responses=CONFLICT,
             summary="Create an invoice with its lines")
async def create_invoice(scope: ScopeDep, body: InvoiceIn, response: Response):
    values = body.model_dump(exclude={"lines"})
    row = await repo.create_invoice(scope, values, [line.model_dump() for line in body.lines])
    created(response, f"/api/dashboard/invoices/{row['id']}")
    return row


@router.get("/invoices/{invoice_id:uuid}", response_model=InvoiceOut, summary="Get an invoice")
async def get_invoice(scope: ScopeDep, invoice_id: uuid.UUID):
    return await repo.get_invoice(scope, invoice_id)


@router.patch("/invoices/{invoice_id:uuid}", response_model=InvoiceOut, summary="Update an invoice's status or due date")
async def update_invoice(scope: ScopeDep, invoice_id: uuid.UUID, body: InvoicePatch):
    return await repo.update_invoice(scope, invoice_id, patch_values(body))


@router.get("/invoices/{invoice_id:uuid}/lines", response_model=ListOut[InvoiceLineOut], summary="List an invoice's lines")
async def list_invoice_lines(scope: ScopeDep, invoice_id: uuid.UUID, page: Annotated[Paging, Depends(paging)],
                             order: Order = "asc"):
    return listing(await repo.list_lines(scope, invoice_id, sort="description", order=order,
                                         limit=page.limit, offset=page.offset), page)
