"""The tenant-aware repository: every query it builds carries ``tenant_id = ANY(<visible tenants>)``.

RLS (enabled and forced) would hide other tenants' rows anyway; the repository does not rely on it.
Two independent layers mean one bug in either still leaks nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection, sql

from phoenix.db import Database
from phoenix.tenancy import Principal


@dataclass
class Scope:
    """One request's database access: who asks, and at most one open tenant transaction."""

    db: Database
    principal: Principal
    _conn: AsyncConnection | None = field(default=None, repr=False)

    @property
    def tenants(self) -> list[str]:
        return list(self.principal.visible_tenants)

    @property
    def home_tenant(self) -> str:
        return self.principal.tenant_id

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncConnection]:
        """The request's tenant transaction (re-entrant: nested calls share one transaction)."""
        if self._conn is not None:
            yield self._conn
            return
        async with self.db.tenant_transaction(self.principal) as conn:
            self._conn = conn
            try:
                yield conn
            finally:
                self._conn = None


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


class TenantRepository:
    """Generic CRUD over one tenant table. ``columns`` is what callers may read; writes are limited to
    ``writable``; ``tenant_id`` and ``id`` are never taken from input."""

    def __init__(self, table: str, columns: Sequence[str], *, writable: Sequence[str] = (),
                 sortable: Sequence[str] = ("id",), searchable: Sequence[str] = (),
                 default_sort: str = "id"):
        self.table = table
        self.columns = tuple(columns)
        self.writable = frozenset(writable)
        self.sortable = frozenset(sortable)
        self.searchable = tuple(searchable)
        self.default_sort = default_sort

    # ------------------------------------------------------------------ SQL fragments
    def select_list(self, alias: str | None = None) -> sql.Composable:
        if alias:
            return sql.SQL(", ").join(sql.SQL("{}.{}").format(ident(alias), ident(c)) for c in self.columns)
        return sql.SQL(", ").join(map(ident, self.columns))

    def where(self, tenants: Sequence[str] | None, filters: Mapping[str, Any] | None = None,
              q: str | None = None, extra: Sequence[tuple[sql.Composable, Sequence[Any]]] = ()
              ) -> tuple[sql.Composable, list[Any]]:
        """The WHERE clause: the tenant predicate first (``tenants=None`` omits it: never on a request path)."""
        parts: list[sql.Composable] = []
        params: list[Any] = []
        if tenants is not None:
            parts.append(sql.SQL("tenant_id = ANY(%s::uuid[])"))
            params.append(list(tenants))
        for column, value in (filters or {}).items():
            if value is None:
                continue
            parts.append(sql.SQL("{} = %s").format(ident(column)))
            params.append(str(value) if isinstance(value, uuid.UUID) else value)
        if q and self.searchable:
            parts.append(sql.SQL("({})").format(sql.SQL(" OR ").join(
                sql.SQL("{}::text ILIKE %s").format(ident(c)) for c in self.searchable)))
            params.extend([f"%{escape_like(q)}%"] * len(self.searchable))
        for clause, clause_params in extra:
            parts.append(clause)
            params.extend(clause_params)
        if not parts:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params

    def order_by(self, sort: str | None, order: str | None) -> sql.Composable:
        column = sort if sort in self.sortable else self.default_sort
        direction = sql.SQL("DESC") if order == "desc" else sql.SQL("ASC")
        return sql.SQL(" ORDER BY {} {}, id ASC").format(ident(column), direction)

    # ------------------------------------------------------------------ queries
    async def list(self, scope: Scope, *, filters: Mapping[str, Any] | None = None, q: str | None = None,
                   sort: str | None = None, order: str | None = None, limit: int = 20, offset: int = 0,
                   extra: Sequence[tuple[sql.Composable, Sequence[Any]]] = ()) -> Page:
        where, params = self.where(scope.tenants, filters, q, extra)
        async with scope.tx() as conn:
            rows = await (await conn.execute(
                sql.SQL("SELECT {} FROM {}").format(self.select_list(), ident(self.table)) + where
                + self.order_by(sort, order) + sql.SQL(" LIMIT %s OFFSET %s"), [*params, limit, offset])).fetchall()
            total = await self.count(conn, where, params)
        return Page(rows, total, offset, limit)

    async def count(self, conn: AsyncConnection, where: sql.Composable, params: Sequence[Any]) -> int:
        row = await (await conn.execute(
            sql.SQL("SELECT count(*) AS n FROM {}").format(ident(self.table)) + where, params)).fetchone()
        return int(row["n"])

    async def count_matching(self, scope: Scope, *, filters: Mapping[str, Any] | None = None,
                             q: str | None = None) -> int:
        """How many rows of the visible tenants match (an export's ``X-Total-Count``)."""
        where, params = self.where(scope.tenants, filters, q)
        async with scope.tx() as conn:
            return await self.count(conn, where, params)

    async def all(self, scope: Scope, *, filters: Mapping[str, Any] | None = None, q: str | None = None,
                  sort: str | None = None, order: str | None = None, cap: int = 10_000) -> list[dict]:
        """Every matching row (exports), capped."""
        return (await self.list(scope, filters=filters, q=q, sort=sort, order=order, limit=cap)).items

    async def get(self, scope: Scope, row_id: uuid.UUID | str, *,
                  filters: Mapping[str, Any] | None = None) -> dict | None:
        where, params = self.where(scope.tenants, {"id": row_id, **(filters or {})})
        async with scope.tx() as conn:
            return await (await conn.execute(
                sql.SQL("SELECT {} FROM {}").format(self.select_list(), ident(self.table)) + where,
                params)).fetchone()

    async def get_many(self, scope: Scope, ids: Sequence[uuid.UUID | str]) -> list[dict]:
        where, params = self.where(scope.tenants, extra=[(sql.SQL("id = ANY(%s::uuid[])"),
                                                          [[str(i) for i in ids]])])
        async with scope.tx() as conn:
            return await (await conn.execute(
                sql.SQL("SELECT {} FROM {}").format(self.select_list(), ident(self.table)) + where
                + sql.SQL(" ORDER BY id"), params)).fetchall()

    async def exists(self, scope: Scope, row_id: uuid.UUID | str) -> bool:
        return await self.get(scope, row_id) is not None

    async def insert(self, scope: Scope, values: Mapping[str, Any], *, tenant_id: str | None = None) -> dict:
        """Insert into the principal's home tenant (``tenant_id`` is never read from ``values``)."""
        data = {k: _param(v) for k, v in values.items() if k in self.writable}
        data["id"] = str(uuid.uuid4())
        data["tenant_id"] = tenant_id or scope.home_tenant
        stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
            ident(self.table), sql.SQL(", ").join(map(ident, data)),
            sql.SQL(", ").join(sql.Placeholder() * len(data)), self.select_list())
        async with scope.tx() as conn:
            return await (await conn.execute(stmt, list(data.values()))).fetchone()

    async def update(self, scope: Scope, row_id: uuid.UUID | str, values: Mapping[str, Any], *,
                     tenants: Sequence[str] | None = None) -> dict | None:
        data = {k: _param(v) for k, v in values.items() if k in self.writable}
        if not data:
            return await self.get(scope, row_id)
        where, params = self.where(scope.tenants if tenants is None else tenants, {"id": row_id})
        stmt = sql.SQL("UPDATE {} SET {}").format(ident(self.table), sql.SQL(", ").join(
            sql.SQL("{} = %s").format(ident(k)) for k in data)) + where + \
            sql.SQL(" RETURNING {}").format(self.select_list())
        async with scope.tx() as conn:
            return await (await conn.execute(stmt, [*data.values(), *params])).fetchone()

    async def delete(self, scope: Scope, row_id: uuid.UUID | str) -> bool:
        where, params = self.where(scope.tenants, {"id": row_id})
        async with scope.tx() as conn:
            cur = await conn.execute(sql.SQL("DELETE FROM {}").format(ident(self.table)) + where, params)
            return cur.rowcount > 0


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _param(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value
