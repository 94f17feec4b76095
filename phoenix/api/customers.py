"""Customers: list, export, get, create, update, delete (6 operations)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import (CONFLICT, CSV_RESPONSE, ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ,
                                created, csv_response, listing, paging, patch_values, sort_param)
from phoenix.api.models import Country, CustomerIn, CustomerInWithTenant, CustomerOut, CustomerPatch, Segment
from phoenix.repository import customers as repo
from phoenix.repository.errors import NotFound
from phoenix.repository.tables import CUSTOMERS

SortCustomers = sort_param(CUSTOMERS.sortable)
EXPORT_COLUMNS = ["id", "tenant_id", "name", "email", "phone", "country_code", "vat_number", "segment", "created_at"]


def routes(faults: frozenset[str]) -> APIRouter:
    """The customer routes; the create body depends on the build (see ``mass-assignment-tenant``)."""
    router = APIRouter(prefix="/api/dashboard", tags=["customers"], responses=ERRORS)
    Body = CustomerInWithTenant if "mass-assignment-tenant" in faults else CustomerIn

    @router.get("/customers", response_model=ListOut[CustomerOut], summary="List customers")
    async def list_customers(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None,
                             segment: Annotated[Segment | None, Query()] = None,
                             country_code: Annotated[Country | None, Query()] = None,
                             sort: SortCustomers = "name", order: Order = "asc"):
        return listing(await repo.list_customers(
            scope, filters={"segment": segment, "country_code": country_code}, q=q, sort=sort, order=order,
            limit=page.limit, offset=page.offset), page)

    @router.get("/customers/export", response_class=Response, responses=CSV_RESPONSE,
                summary="Export customers as CSV")
    async def export_customers(scope: ScopeDep, q: SearchQ = None,
                               segment: Annotated[Segment | None, Query()] = None):
        rows, total = await repo.export_customers(scope, filters={"segment": segment}, q=q)
        return csv_response(rows, EXPORT_COLUMNS, "customers.csv", total=total)

    @router.post("/customers", response_model=CustomerOut, status_code=http.HTTP_201_CREATED,
                 responses=CONFLICT, summary="Create a customer")
    async def create_customer(scope: ScopeDep, body: Body, response: Response):
        row = await repo.create_customer(scope, body.model_dump())
        created(response, f"/api/dashboard/customers/{row['id']}")
        return row

    @router.get("/customers/{customer_id:uuid}", response_model=CustomerOut, summary="Get a customer")
    async def get_customer(scope: ScopeDep, customer_id: uuid.UUID):
        row = await CUSTOMERS.get(scope, customer_id)
        if row is None:
            raise NotFound("customer")
        return row

    @router.patch("/customers/{customer_id:uuid}", response_model=CustomerOut, responses=CONFLICT,
                  summary="Update a customer")
    async def update_customer(scope: ScopeDep, customer_id: uuid.UUID, body: CustomerPatch):
        return await repo.update_customer(scope, customer_id, patch_values(body))

    @router.delete("/customers/{customer_id:uuid}", status_code=http.HTTP_204_NO_CONTENT, response_class=Response,
                   responses=CONFLICT, summary="Delete a customer without projects or invoices")
    async def delete_customer(scope: ScopeDep, customer_id: uuid.UUID):
        await repo.delete_customer(scope, customer_id)
        return Response(status_code=http.HTTP_204_NO_CONTENT)

    return router

