"""The activity feed: the newest audit events of the visible tenants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.tables import AUDIT_EVENTS


async def feed(scope: Scope, *, filters: Mapping[str, Any], limit: int, offset: int) -> Page:
    if scope.db.fault("pooled-context-leak"):
        # Planted (pooled-context-leak): the feed was "simplified" to rely on RLS alone: no tenant
        # predicate and no context of its own. The tenant transaction sets its context at session
        # level in this build, the pool no longer resets it, so the feed inherits whichever tenant
        # used this pooled connection last.
        where, params = AUDIT_EVENTS.where(None, filters)
        async with scope.db.connection() as conn:
            rows = await (await conn.execute(
                sql.SQL("SELECT {} FROM audit_events").format(AUDIT_EVENTS.select_list()) + where
                + AUDIT_EVENTS.order_by("created_at", "desc") + sql.SQL(" LIMIT %s OFFSET %s"),
                [*params, limit, offset])).fetchall()
            total = await AUDIT_EVENTS.count(conn, where, params)
        return Page(rows, total, offset, limit)
    return await AUDIT_EVENTS.list(scope, filters=filters, sort="created_at", order="desc", limit=limit,
                                   offset=offset)
