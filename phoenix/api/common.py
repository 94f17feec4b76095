"""What every dashboard route shares: the error model, paging, CSV responses, the request scope."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from phoenix.deps import authorize, get_db
from phoenix.repository.base import Page, Scope
from phoenix.tenancy import Principal

T = TypeVar("T")

#: Printable text only: PostgreSQL rejects NUL, and control characters have no place in these fields.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def Text(max_length: int, min_length: int = 1):  # noqa: N802 - a type factory
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=PRINTABLE,
                                            strip_whitespace=False)]


class ErrorOut(BaseModel):
    detail: str


ERRORS = {
    400: {"model": ErrorOut, "description": "Malformed request body"},
    401: {"model": ErrorOut, "description": "Missing, malformed or expired bearer token"},
    403: {"model": ErrorOut, "description": "The caller's role may not do this"},
    404: {"model": ErrorOut, "description": "No such object for this caller (other tenants' objects included)"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}
CONFLICT = {409: {"model": ErrorOut, "description": "Conflicts with an existing object"}}


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, never silently ignored or honoured."""

    model_config = ConfigDict(extra="forbid")


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    next_cursor: str | None = None


async def get_scope(request: Request, principal: Principal = Depends(authorize)) -> Scope:
    _reject_unknown_query(request)
    return Scope(get_db(request), principal)


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are an error (422), like unknown body fields: a typo'd filter must not
    silently return everything."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = _QUERY_NAMES[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        raise HTTPException(422, f"unknown query parameter(s): {', '.join(unknown)}")


ScopeDep = Annotated[Scope, Depends(get_scope)]


class Paging(BaseModel):
    limit: int = 20
    offset: int = 0
    #: Whether this list pages with cursors (then the response carries next_cursor).
    cursor: bool = False


def paging(limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
           offset: Annotated[int, Query(ge=0, le=100_000, description="Rows to skip")] = 0) -> Paging:
    return Paging(limit=limit, offset=offset)


def cursor_paging_upto(max_limit: int = 100, default_limit: int = 20):
    """A cursor-paging dependency whose page size is at most ``max_limit`` (default ``default_limit``)."""

    # Default-value style on purpose: the bounds are closure variables, which string annotations
    # (``from __future__ import annotations``) could not resolve.
    def dependency(limit: int = Query(default_limit, ge=1, le=max_limit, description="Page size"),
                   offset: int = Query(0, ge=0, le=100_000, description="Rows to skip"),
                   cursor: str = Query(None, min_length=1, max_length=8, pattern=r"^[0-9a-z]+$",
                                       description="Opaque cursor from next_cursor")) -> Paging:
        if cursor is not None:
            offset = decode_cursor(cursor)
        return Paging(limit=limit, offset=offset, cursor=True)

    return dependency


cursor_paging = cursor_paging_upto()


def encode_cursor(offset: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        offset, rest = divmod(offset, 36)
        text = digits[rest] + text
        if not offset:
            return text


def decode_cursor(cursor: str) -> int:
    """Every well-formed cursor is valid: one past the end just gives an empty page."""
    return int(cursor, 36)


def listing(page: Page, paging: Paging) -> dict[str, Any]:
    next_cursor = encode_cursor(page.offset + len(page.items)) if paging.cursor and page.has_more else None
    return {"items": page.items, "total": page.total, "next_cursor": next_cursor}


def sort_param(columns):
    return Annotated[Literal[tuple(sorted(columns))], Query(description="Sort column")]  # type: ignore[valid-type]


Order = Annotated[Literal["asc", "desc"], Query(description="Sort direction")]
SearchQ = Annotated[str | None, Query(min_length=1, max_length=100, pattern=PRINTABLE,
                                      description="Case-insensitive substring search")]

#: Exports are capped (``TenantRepository.all``); the header says how many rows matched in all.
TOTAL_HEADER = "X-Total-Count"
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "CSV file (attachment)",
                      "headers": {TOTAL_HEADER: {"description": "Rows matching the filters in the caller's "
                                                                "tenants (the file may be capped)",
                                                 "schema": {"type": "integer", "minimum": 0}}}}}


def csv_response(rows: list[dict], columns: list[str], filename: str, *, total: int | None = None) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if total is not None:
        headers[TOTAL_HEADER] = str(total)
    return Response(buffer.getvalue(), media_type="text/csv", headers=headers)


def patch_values(body: BaseModel) -> dict[str, Any]:
    """PATCH semantics: the fields the client sent; an explicit null means "leave unchanged"."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}


def created(response: Response, location: str) -> None:
    response.headers["Location"] = location

