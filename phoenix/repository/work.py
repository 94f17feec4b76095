"""Time entries, notifications and dashboards: the things a user does for themself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import Invalid, NotFound
from phoenix.repository.tables import DASHBOARDS, NOTIFICATIONS, PROJECTS, TASKS, TIME_ENTRIES, WIDGETS


async def log_time(scope: Scope, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        if not await PROJECTS.exists(scope, values["project_id"]):
            raise NotFound("project")
        if values.get("task_id") is not None:
            task = await TASKS.get(scope, values["task_id"])
            if task is None:
                raise NotFound("task")
            if str(task["project_id"]) != str(values["project_id"]):
                raise Invalid("the task belongs to another project")
        return await TIME_ENTRIES.insert(scope, {**values, "user_id": scope.principal.user_id})


async def delete_time_entry(scope: Scope, time_entry_id) -> None:
    if not await TIME_ENTRIES.delete(scope, time_entry_id):
        raise NotFound("time entry")


async def my_notifications(scope: Scope, *, unread: bool | None, limit: int, offset: int) -> Page:
    extra = []
    if unread is not None:
        extra.append((sql.SQL("read_at IS NULL") if unread else sql.SQL("read_at IS NOT NULL"), []))
    return await NOTIFICATIONS.list(scope, filters={"user_id": scope.principal.user_id}, extra=extra,
                                    sort="created_at", order="desc", limit=limit, offset=offset)


async def mark_read(scope: Scope, notification_id) -> dict:
    async with scope.tx():
        row = await NOTIFICATIONS.get(scope, notification_id, filters={"user_id": scope.principal.user_id})
        if row is None:
            raise NotFound("notification")
        if row["read_at"] is not None:
            return row
        return await NOTIFICATIONS.update(scope, notification_id, {"read_at": dt.datetime.now(dt.timezone.utc)})


async def list_dashboards(scope: Scope, *, q: str | None, limit: int, offset: int) -> Page:
    return await DASHBOARDS.list(scope, q=q, extra=[(sql.SQL("(is_shared OR owner_id = %s)"),
                                                     [scope.principal.user_id])],
                                 sort="name", limit=limit, offset=offset)


async def require_dashboard(scope: Scope, dashboard_id) -> dict:
    page = await DASHBOARDS.list(scope, filters={"id": dashboard_id},
                                 extra=[(sql.SQL("(is_shared OR owner_id = %s)"), [scope.principal.user_id])],
                                 limit=1)
    if not page.items:
        raise NotFound("dashboard")
    return page.items[0]


async def create_dashboard(scope: Scope, values: Mapping[str, Any]) -> dict:
    return await DASHBOARDS.insert(scope, {**values, "owner_id": scope.principal.user_id})


async def list_widgets(scope: Scope, dashboard_id, *, limit: int, offset: int) -> Page:
    async with scope.tx():
        await require_dashboard(scope, dashboard_id)
        return await WIDGETS.list(scope, filters={"dashboard_id": dashboard_id}, sort="position",
                                  limit=limit, offset=offset)


async def add_widget(scope: Scope, dashboard_id, values: Mapping[str, Any]) -> dict:
    async with scope.tx():
        await require_dashboard(scope, dashboard_id)
        return await WIDGETS.insert(scope, {**values, "dashboard_id": dashboard_id})
