"""Tasks: nested under projects, flat lists, comments, and the bulk status change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import NotFound
from phoenix.repository.tables import COMMENTS, PROJECTS, TASKS, USERS


async def require_project(scope: Scope, project_id) -> dict:
    project = await PROJECTS.get(scope, project_id)
    if project is None:
        raise NotFound("project")
    return project


async def require_task(scope: Scope, task_id) -> dict:
    task = await TASKS.get(scope, task_id)
    if task is None:
        raise NotFound("task")
    return task


async def list_project_tasks(scope: Scope, project_id, **kw) -> Page:
    async with scope.tx():
        await require_project(scope, project_id)
        return await TASKS.list(scope, **{**kw, "filters": {**kw.get("filters", {}), "project_id": project_id}})


async def get_project_task(scope: Scope, project_id, task_id) -> dict:
    async with scope.tx():
        await require_project(scope, project_id)
        if scope.db.fault("nested-child-unchecked"):
            # Planted (nested-child-unchecked): the parent is checked, then the task is loaded by id
            # alone through the shared loader on the reporting connection (BYPASSRLS): neither its
            # project nor its tenant is compared.
            async with scope.db.reporting_transaction(scope.principal) as conn:
                task = await (await conn.execute(
                    sql.SQL("SELECT {} FROM tasks WHERE id = %s").format(TASKS.select_list()),
                    [str(task_id)])).fetchone()
        else:
            task = await TASKS.get(scope, task_id, filters={"project_id": project_id})
    if task is None:
        raise NotFound("task")
    return task


async def check_assignee(scope: Scope, values: Mapping[str, Any]) -> None:
    if values.get("assignee_id") is not None and not await USERS.exists(scope, values["assignee_id"]):
        raise NotFound("user")


async def create_task(scope: Scope, project_id, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        await require_project(scope, project_id)
        await check_assignee(scope, values)
        return await TASKS.insert(scope, {**values, "project_id": project_id})


async def update_task(scope: Scope, task_id, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        await require_task(scope, task_id)
        await check_assignee(scope, values)
        return await TASKS.update(scope, task_id, values)


async def delete_task(scope: Scope, task_id) -> None:
    if not await TASKS.delete(scope, task_id):
        raise NotFound("task")


async def bulk_update_status(scope: Scope, ids: Sequence[str], status: str) -> list[dict]:
    """Set ``status`` on every task in ``ids``: all of them or none (NotFound if any is not visible)."""
    wanted = sorted(set(map(str, ids)))
    if scope.db.fault("update-delete-unchecked"):
        # Planted (update-delete-unchecked): bulk changes were handed to the job worker's connection
        # (phoenix_worker, BYPASSRLS, it serves every tenant) and the UPDATE matches on id alone.
        async with scope.db.connection("worker") as conn:
            rows = await (await conn.execute(
                sql.SQL("UPDATE tasks SET status = %s WHERE id = ANY(%s::uuid[]) RETURNING {}").format(
                    TASKS.select_list()), [status, wanted])).fetchall()
        if len(rows) != len(wanted):
            raise NotFound("task")
    else:
        async with scope.tx() as conn:
            rows = await (await conn.execute(
                sql.SQL("UPDATE tasks SET status = %s WHERE tenant_id = ANY(%s::uuid[]) AND id = ANY(%s::uuid[]) "
                        "RETURNING {}").format(TASKS.select_list()), [status, scope.tenants, wanted])).fetchall()
            if len(rows) != len(wanted):
                raise NotFound("task")  # rolls the whole batch back
    return sorted(rows, key=lambda r: str(r["id"]))


async def list_comments(scope: Scope, task_id, **kw) -> Page:
    async with scope.tx():
        await require_task(scope, task_id)
        return await COMMENTS.list(scope, **{**kw, "filters": {"task_id": task_id}})


async def add_comment(scope: Scope, task_id, body: str) -> dict:
    async with scope.tx():
        await require_task(scope, task_id)
        return await COMMENTS.insert(scope, {"task_id": task_id, "author_id": scope.principal.user_id,
                                             "body": body})
