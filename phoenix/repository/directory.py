"""The user directory: the list, and the licence seats it shows (active users of the visible tenants)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phoenix.repository.base import Page, Scope
from phoenix.repository.tables import USERS

_SEATS = "SELECT count(*) AS n FROM users WHERE tenant_id = ANY(%s::uuid[]) AND active"


async def list_users(scope: Scope, *, filters: Mapping[str, Any], q: str | None, sort: str | None,
                     order: str | None, limit: int, offset: int) -> tuple[Page, int]:
    """A page of users and the seats in use (whatever the filters: it is the licence badge)."""
    async with scope.tx():
        page = await USERS.list(scope, filters=filters, q=q, sort=sort, order=order, limit=limit, offset=offset)
        return page, await seats_used(scope)


async def seats_used(scope: Scope) -> int:
    if scope.db.fault("seat-count-all-tenants"):
        # Planted (seat-count-all-tenants): the badge reuses the nightly licence meter's count, which
        # runs as the job worker (phoenix_worker, BYPASSRLS: it meters every tenant) and was copied
        # without its tenant predicate. Only a number moves: no foreign row is ever returned.
        async with scope.db.connection("worker") as conn:
            row = await (await conn.execute("SELECT count(*) AS n FROM users WHERE active")).fetchone()
        return int(row["n"])
    async with scope.tx() as conn:
        row = await (await conn.execute(_SEATS, [scope.tenants])).fetchone()
    return int(row["n"])
