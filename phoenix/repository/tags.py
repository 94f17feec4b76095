"""Tags: names are unique per tenant (``UNIQUE (tenant_id, name)``), not globally."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from phoenix.repository.base import Scope
from phoenix.repository.errors import Conflict
from phoenix.repository.tables import TAGS


async def create_tag(scope: Scope, values: Mapping[str, Any]) -> dict:
    if scope.db.fault("error-echoes-foreign"):
        # Planted (error-echoes-foreign): a friendly duplicate check that looks the name up on the
        # reporting connection (BYPASSRLS) across every tenant, and names the row it found.
        async with scope.db.reporting_transaction(scope.principal) as conn:
            clash = await (await conn.execute(
                "SELECT id, tenant_id, color FROM tags WHERE lower(name) = lower(%s) LIMIT 1",
                [values["name"]])).fetchone()
        if clash is not None:
            raise Conflict(f"tag {values['name']!r} already exists (tag {clash['id']}, "
                           f"tenant {clash['tenant_id']}, color {clash['color']})")
    try:
        return await TAGS.insert(scope, values)
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a tag named {values['name']!r} already exists") from None
