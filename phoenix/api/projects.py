"""Projects: list, batch get, export, get, create, update, delete, summary (8 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import status as http

from phoenix.api.common import (CONFLICT, CSV_RESPONSE, ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ,
                                created, csv_response, cursor_paging, listing, patch_values,
                                sort_param)
from phoenix.api.models import ProjectIn, ProjectOut, ProjectPatch, ProjectStatus, ProjectSummaryOut
from phoenix.repository import projects as repo
from phoenix.repository.errors import NotFound
from phoenix.repository.tables import PROJECTS

router = APIRouter(prefix="/api/dashboard", tags=["projects"], responses=ERRORS)
SortProjects = sort_param(PROJECTS.sortable)
UUID_LIST = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" \
            r"(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}){0,49}$"
EXPORT_COLUMNS = ["id", "tenant_id", "code", "name", "status", "customer_id", "owner_id", "budget",
                  "currency_code", "starts_on", "ends_on"]


@router.get("/projects", response_model=ListOut[ProjectOut], summary="List projects (cursor paging)")
async def list_projects(scope: ScopeDep, page: Annotated[Paging, Depends(cursor_paging)], q: SearchQ = None,
                        status: Annotated[ProjectStatus | None, Query()] = None,
                        customer_id: Annotated[uuid.UUID | None, Query()] = None,
                        sort: SortProjects = "created_at", order: Order = "desc"):
    return listing(await repo.list_projects(
        scope, filters={"status": status, "customer_id": customer_id}, q=q, sort=sort, order=order,
        limit=page.limit, offset=page.offset), page)


@router.get("/projects/batch", response_model=ListOut[ProjectOut],
            summary="Get several projects at once (all must exist, else 404)")
async def batch_projects(scope: ScopeDep, ids: Annotated[str, Query(
        pattern=UUID_LIST, description="Comma-separated project ids (projects.id), at most 50")]):
    wanted = list(dict.fromkeys(i.lower() for i in ids.split(",")))
    rows = await repo.batch_get(scope, wanted)
    return {"items": rows, "total": len(rows), "next_cursor": None}


@router.get("/projects/export", response_class=Response, responses=CSV_RESPONSE,
            summary="Export projects as CSV")
async def export_projects(scope: ScopeDep, status: Annotated[ProjectStatus | None, Query()] = None):
    async with scope.tx():
        rows = await PROJECTS.all(scope, filters={"status": status}, sort="code")
        total = await PROJECTS.count_matching(scope, filters={"status": status})
    return csv_response(rows, EXPORT_COLUMNS, "projects.csv", total=total)


@router.post("/projects", response_model=ProjectOut, status_code=http.HTTP_201_CREATED, responses=CONFLICT,
             summary="Create a project")
async def create_project(scope: ScopeDep, body: ProjectIn, response: Response):
    row = await repo.create_project(scope, body.model_dump())
    created(response, f"/api/dashboard/projects/{row['id']}")
    return row


@router.get("/projects/{project_id:uuid}", response_model=ProjectOut, summary="Get a project")
async def get_project(scope: ScopeDep, project_id: uuid.UUID):
    row = await PROJECTS.get(scope, project_id)
    if row is None:
        raise NotFound("project")
    return row


@router.patch("/projects/{project_id:uuid}", response_model=ProjectOut, responses=CONFLICT,
              summary="Update a project")
async def update_project(scope: ScopeDep, project_id: uuid.UUID, body: ProjectPatch):
    return await repo.update_project(scope, project_id, patch_values(body))


@router.delete("/projects/{project_id:uuid}", status_code=http.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a project with its tasks, time entries and documents")
async def delete_project(scope: ScopeDep, project_id: uuid.UUID):
    await repo.delete_project(scope, project_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id:uuid}/summary", response_model=ProjectSummaryOut,
            summary="KPI summary of one project (cached)")
async def project_summary(scope: ScopeDep, project_id: uuid.UUID, request: Request):
    cache = request.app.state.cache
    key = cache.key(scope.tenants, request.url.path, request.url.query)
    hit = cache.get(key)
    if hit is None:
        hit = await repo.project_summary(scope, project_id)
        cache.put(key, hit)
    return hit
