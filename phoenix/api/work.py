"""Time entries and documents (5 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import (ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ, created, cursor_paging_upto,
                                listing, paging, sort_param)
from phoenix.api.models import DocumentOut, TimeEntryIn, TimeEntryOut
from phoenix.repository import documents, work
from phoenix.repository.tables import DOCUMENTS, TIME_ENTRIES

router = APIRouter(prefix="/api/dashboard", tags=["time & documents"], responses=ERRORS)
#: The timesheet screen shows ten entries at a time and follows next_cursor for more.
timesheet_paging = cursor_paging_upto(max_limit=10, default_limit=10)


@router.get("/time-entries", response_model=ListOut[TimeEntryOut],
            summary="List time entries (cursor paging, at most 10 per page)")
async def list_time_entries(scope: ScopeDep, page: Annotated[Paging, Depends(timesheet_paging)],
                            project_id: Annotated[uuid.UUID | None, Query()] = None,
                            user_id: Annotated[uuid.UUID | None, Query(description="users.id")] = None,
                            billable: Annotated[bool | None, Query()] = None,
                            sort: sort_param(TIME_ENTRIES.sortable) = "spent_on",
                            order: Order = "desc"):
    return listing(await work.list_time_entries(
        scope, filters={"project_id": project_id, "user_id": user_id, "billable": billable},
        sort=sort, order=order, limit=page.limit, offset=page.offset), page)


@router.post("/time-entries", response_model=TimeEntryOut, status_code=http.HTTP_201_CREATED,
             summary="Log time on a project (and optionally one of its tasks)")
async def log_time(scope: ScopeDep, body: TimeEntryIn, response: Response):
    row = await work.log_time(scope, body.model_dump())
    created(response, f"/api/dashboard/time-entries/{row['id']}")
    return row


@router.delete("/time-entries/{time_entry_id:uuid}", status_code=http.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a time entry")
async def delete_time_entry(scope: ScopeDep, time_entry_id: uuid.UUID):
    await work.delete_time_entry(scope, time_entry_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/documents", response_model=ListOut[DocumentOut], summary="List documents")
async def list_documents(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None,
                         project_id: Annotated[uuid.UUID | None, Query()] = None,
                         sort: sort_param(DOCUMENTS.sortable) = "created_at",
                         order: Order = "desc"):
    return listing(await documents.list_documents(scope, filters={"project_id": project_id}, q=q, sort=sort,
                                                  order=order, limit=page.limit, offset=page.offset), page)


@router.get("/documents/{document_id:uuid}", response_model=DocumentOut, summary="Get a document's metadata")
async def get_document(scope: ScopeDep, document_id: uuid.UUID):
    return await documents.get_document(scope, document_id)

