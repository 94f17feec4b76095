"""Documents (metadata of files attached to projects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from phoenix.repository.base import Page, Scope
from phoenix.repository.errors import Forbidden, NotFound
from phoenix.repository.tables import DOCUMENTS


async def list_documents(scope: Scope, *, filters: Mapping[str, Any], q: str | None, sort: str | None,
                         order: str | None, limit: int, offset: int) -> Page:
    if scope.db.fault("rls-not-forced"):
        # Planted (rls-not-forced): the documents module still uses the migration DSN (phoenix_owner,
        # the table owner) and its list forgot the tenant predicate. The install left FORCE off on
        # `documents`, so RLS does not apply to the owner and every tenant's documents come back.
        where, params = DOCUMENTS.where(None, filters, q)
        async with scope.db.connection("owner") as conn:
            rows = await (await conn.execute(
                sql.SQL("SELECT {} FROM documents").format(DOCUMENTS.select_list()) + where
                + DOCUMENTS.order_by(sort, order) + sql.SQL(" LIMIT %s OFFSET %s"),
                [*params, limit, offset])).fetchall()
            total = await DOCUMENTS.count(conn, where, params)
        return Page(rows, total, offset, limit)
    return await DOCUMENTS.list(scope, filters=filters, q=q, sort=sort, order=order, limit=limit, offset=offset)


async def get_document(scope: Scope, document_id) -> dict:
    """One document's metadata; another tenant's document does not exist for the caller (404)."""
    if scope.db.fault("document-forbidden-reveals-existence"):
        return await _get_then_authorise(scope, document_id)
    row = await DOCUMENTS.get(scope, document_id)
    if row is None:
        raise NotFound("document")
    return row


async def _get_then_authorise(scope: Scope, document_id) -> dict:
    # Planted (document-forbidden-reveals-existence): a "more helpful" error. The document is loaded
    # by id alone through the file service's loader on the reporting connection (BYPASSRLS), then
    # compared with the caller's tenants: someone else's document answers 403 "no access", an
    # unknown id 404. The body never leaks, but the status tells which ids exist elsewhere.
    async with scope.db.reporting_transaction(scope.principal) as conn:
        row = await (await conn.execute(
            sql.SQL("SELECT {} FROM documents WHERE id = %s").format(DOCUMENTS.select_list()),
            [str(document_id)])).fetchone()
    if row is None:
        raise NotFound("document")
    if str(row["tenant_id"]) not in scope.tenants:
        raise Forbidden("you do not have access to this document")
    return row
