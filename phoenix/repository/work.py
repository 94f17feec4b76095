"""Time entries, notifications and dashboards: the things a user does for themself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import Invalid, NotFound
from phoenix.repository.tables import DASHBOARDS, NOTIFICATIONS, PROJECTS, TASKS, TIME_ENTRIES, WIDGETS


async def list_time_entries(scope: Scope, *, filters: Mapping[str, Any], sort: str | None, order: str | None,
                            limit: int, offset: int) -> Page:
    if offset and scope.db.fault("time-entries-later-pages-unfiltered"):
        return await _later_page_on_reporting(scope, filters, sort, order, limit, offset)
    return await TIME_ENTRIES.list(scope, filters=filters, sort=sort, order=order, limit=limit, offset=offset)


async def _later_page_on_reporting(scope: Scope, filters, sort, order, limit: int, offset: int) -> Page:
    # Planted (time-entries-later-pages-unfiltered): deep pages are OFFSET scans, so the timesheet
    # screen reads every page after the first from the reporting connection (BYPASSRLS) to spare the
    # primary. That query was built with `where(None, …)`: page 1 is right, pages 2+ (and their total)
    # come from every tenant's time entries.
    where, params = TIME_ENTRIES.where(None, filters)
    async with scope.db.reporting_transaction(scope.principal) as conn:
        rows = await (await conn.execute(
            sql.SQL("SELECT {} FROM time_entries").format(TIME_ENTRIES.select_list()) + where
            + TIME_ENTRIES.order_by(sort, order) + sql.SQL(" LIMIT %s OFFSET %s"),
            [*params, limit, offset])).fetchall()
        total = await TIME_ENTRIES.count(conn, where, params)
    return Page(rows, total, offset, limit)


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


async def my_notifications(scope: Scope, *, unread: bool | None, kind: str | None = None, limit: int,
                           offset: int) -> Page:
    extra = []
    if unread is not None:
        extra.append((sql.SQL("read_at IS NULL") if unread else sql.SQL("read_at IS NOT NULL"), []))
    if kind == "system" and scope.db.fault("system-notices-all-tenants"):
        return await _system_notices(scope, extra, limit, offset)
    return await NOTIFICATIONS.list(scope, filters={"user_id": scope.principal.user_id, "kind": kind},
                                    extra=extra, sort="created_at", order="desc", limit=limit, offset=offset)


async def _system_notices(scope: Scope, extra, limit: int, offset: int) -> Page:
    # Planted (system-notices-all-tenants): before the multi-tenant retrofit, system notices were
    # platform-wide announcements, and `kind=system` still takes the announcements query: on the
    # reporting connection (BYPASSRLS), filtered on kind and read state only, with neither the tenant
    # nor the recipient. Every other kind goes through the repository and is fine.
    where, params = NOTIFICATIONS.where(None, {"kind": "system"}, extra=extra)
    async with scope.db.reporting_transaction(scope.principal) as conn:
        rows = await (await conn.execute(
            sql.SQL("SELECT {} FROM notifications").format(NOTIFICATIONS.select_list()) + where
            + NOTIFICATIONS.order_by("created_at", "desc") + sql.SQL(" LIMIT %s OFFSET %s"),
            [*params, limit, offset])).fetchall()
        total = await NOTIFICATIONS.count(conn, where, params)
    return Page(rows, total, offset, limit)


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
