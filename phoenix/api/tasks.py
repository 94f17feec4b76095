"""Tasks (nested under projects and flat), bulk status change, comments (9 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import (ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ, created, cursor_paging,
                                listing, paging, patch_values, sort_param)
from phoenix.api.models import (BulkUpdateIn, BulkUpdateOut, CommentIn, CommentOut, TaskIn, TaskOut, TaskPatch,
                                TaskStatus)
from phoenix.repository import tasks as repo
from phoenix.repository.tables import TASKS

router = APIRouter(prefix="/api/dashboard", tags=["tasks"], responses=ERRORS)
SortTasks = sort_param(TASKS.sortable)
Priority = Annotated[int | None, Query(ge=1, le=4)]


@router.get("/projects/{project_id:uuid}/tasks", response_model=ListOut[TaskOut], summary="List a project's tasks")
async def list_project_tasks(scope: ScopeDep, project_id: uuid.UUID, page: Annotated[Paging, Depends(paging)],
                             q: SearchQ = None, status: Annotated[TaskStatus | None, Query()] = None,
                             sort: SortTasks = "created_at", order: Order = "desc"):
    return listing(await repo.list_project_tasks(
        scope, project_id, filters={"status": status}, q=q, sort=sort, order=order,
        limit=page.limit, offset=page.offset), page)


@router.post("/projects/{project_id:uuid}/tasks", response_model=TaskOut, status_code=http.HTTP_201_CREATED,
             summary="Create a task in a project")
async def create_task(scope: ScopeDep, project_id: uuid.UUID, body: TaskIn, response: Response):
    row = await repo.create_task(scope, project_id, body.model_dump())
    created(response, f"/api/dashboard/projects/{project_id}/tasks/{row['id']}")
    return row


@router.get("/projects/{project_id:uuid}/tasks/{task_id:uuid}", response_model=TaskOut, summary="Get a task of a project")
async def get_project_task(scope: ScopeDep, project_id: uuid.UUID, task_id: uuid.UUID):
    return await repo.get_project_task(scope, project_id, task_id)


@router.get("/tasks", response_model=ListOut[TaskOut], summary="List tasks across projects (cursor paging)")
async def list_tasks(scope: ScopeDep, page: Annotated[Paging, Depends(cursor_paging)], q: SearchQ = None,
                     status: Annotated[TaskStatus | None, Query()] = None, priority: Priority = None,
                     assignee_id: Annotated[uuid.UUID | None, Query(description="A user id (users.id)")] = None,
                     project_id: Annotated[uuid.UUID | None, Query()] = None,
                     sort: SortTasks = "created_at", order: Order = "desc"):
    return listing(await TASKS.list(
        scope, filters={"status": status, "priority": priority, "assignee_id": assignee_id,
                        "project_id": project_id},
        q=q, sort=sort, order=order, limit=page.limit, offset=page.offset), page)


@router.post("/tasks/bulk-update", response_model=BulkUpdateOut,
             summary="Set the status of several tasks (all or none)")
async def bulk_update_tasks(scope: ScopeDep, body: BulkUpdateIn):
    rows = await repo.bulk_update_status(scope, [str(i) for i in body.ids], body.status)
    return {"updated": len(rows), "items": rows}


@router.patch("/tasks/{task_id:uuid}", response_model=TaskOut, summary="Update a task")
async def update_task(scope: ScopeDep, task_id: uuid.UUID, body: TaskPatch):
    return await repo.update_task(scope, task_id, patch_values(body))


@router.delete("/tasks/{task_id:uuid}", status_code=http.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a task")
async def delete_task(scope: ScopeDep, task_id: uuid.UUID):
    await repo.delete_task(scope, task_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


@router.get("/tasks/{task_id:uuid}/comments", response_model=ListOut[CommentOut], summary="List a task's comments")
async def list_comments(scope: ScopeDep, task_id: uuid.UUID, page: Annotated[Paging, Depends(paging)],
                        order: Order = "asc"):
    return listing(await repo.list_comments(scope, task_id, sort="created_at", order=order,
                                            limit=page.limit, offset=page.offset), page)


@router.post("/tasks/{task_id:uuid}/comments", response_model=CommentOut, status_code=http.HTTP_201_CREATED,
             summary="Comment on a task")
async def add_comment(scope: ScopeDep, task_id: uuid.UUID, body: CommentIn, response: Response):
    row = await repo.add_comment(scope, task_id, body.body)
    created(response, f"/api/dashboard/tasks/{task_id}/comments")
    return row
