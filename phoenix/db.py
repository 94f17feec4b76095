"""Connection pools and the per-request tenant transaction (ADR-007: context per transaction).

Every dashboard request runs inside :meth:`Database.tenant_transaction`: one transaction on the
primary pool (role ``phoenix_app``: no owner, no BYPASSRLS, so RLS applies), whose first statement
sets the tenant context with ``is_local => true``. The context dies with the transaction, so a pooled
connection cannot carry one request's tenants into the next; the pool's reset hook clears it as well.

Pools open lazily on first use: the harness drives the app through ``httpx.ASGITransport``, which never
runs the lifespan, and a pool bound to an event loop must be opened inside that loop. The lifespan
closes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from phoenix.tenancy import Principal

_SET_CONTEXT = "SELECT set_config('app.tenant_ids', %s, %s)"


async def set_tenant_context_async(conn: AsyncConnection, tenant_ids: Sequence[str], *,
                                   local: bool = True) -> None:
    """Async twin of :func:`phoenix.tenancy.set_tenant_context` (same SQL, ``SET LOCAL`` semantics).

    ``local=False`` (session scope) exists only for the planted ``pooled-context-leak`` fault.
    """
    await conn.execute(_SET_CONTEXT, [",".join(str(t) for t in tenant_ids), local])


async def _discard_context(conn: AsyncConnection) -> None:
    # Belt and braces: SET LOCAL already ended with the transaction; a session-level value must not
    # survive the return to the pool either.
    await conn.execute("RESET app.tenant_ids")


class Database:
    """The app's pools. ``dsn`` is the phoenix_app role; the other DSNs are optional side doors.

    ``reporting_dsn`` (phoenix_reporting, BYPASSRLS, read-only) serves the report engine, which carries
    explicit tenant predicates. ``worker_dsn`` (phoenix_worker, BYPASSRLS) belongs to background jobs
    and ``owner_dsn`` to migrations; the clean dashboard API uses neither.
    """

    def __init__(self, dsn: str, *, reporting_dsn: str | None = None, worker_dsn: str | None = None,
                 owner_dsn: str | None = None, faults: frozenset[str] = frozenset(),
                 pool_size: int = 4):
        self.dsns = {"primary": dsn, "reporting": reporting_dsn, "worker": worker_dsn, "owner": owner_dsn}
        self.faults = faults
        self.pool_size = max(1, pool_size)
        #: Pools per event loop: a pool belongs to the loop that opened it, and test clients (Starlette's
        #: TestClient, Schemathesis's ASGI calls) may run each request in a fresh loop.
        self._pools: dict[asyncio.AbstractEventLoop, dict[str, AsyncConnectionPool]] = {}
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def fault(self, name: str) -> bool:
        """Whether a planted fault is switched on for this app (read once, at app creation)."""
        return name in self.faults

    async def pool(self, name: str = "primary") -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        pools = self._pools.get(loop)
        if pools is not None and name in pools:
            return pools[name]
        self._discard_dead_loops()
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            pools = self._pools.setdefault(loop, {})
            if name not in pools:
                dsn = self.dsns.get(name)
                if not dsn:
                    raise RuntimeError(f"no DSN configured for the {name} pool")
                # The session-level context of the pooled-context-leak fault must survive check-in.
                reset = None if self.fault("pooled-context-leak") else _discard_context
                pool = AsyncConnectionPool(
                    dsn, min_size=1, max_size=self.pool_size, open=False, reset=reset,
                    kwargs={"autocommit": True, "row_factory": dict_row}, name=f"phoenix-{name}")
                await pool.open(wait=True, timeout=15)
                pools[name] = pool
        return pools[name]

    def _discard_dead_loops(self) -> None:
        """Free the connections of pools whose event loop is gone (they can no longer be closed politely)."""
        for loop in [lp for lp in self._pools if lp.is_closed()]:
            for pool in self._pools.pop(loop).values():
                for conn in list(getattr(pool, "_pool", ())):
                    conn.pgconn.finish()
            self._locks.pop(loop, None)

    @asynccontextmanager
    async def tenant_transaction(self, principal: Principal, *,
                                 tenants: Sequence[str] | None = None) -> AsyncIterator[AsyncConnection]:
        """One transaction on the primary pool with the principal's tenant context set locally.

        ``tenants`` narrows (never widens: callers pass a subset) the context, e.g. a write that must
        land in the principal's home tenant only.
        """
        pool = await self.pool("primary")
        async with pool.connection() as conn, conn.transaction():
            await set_tenant_context_async(conn, tenants if tenants is not None else principal.visible_tenants,
                                           local=not self.fault("pooled-context-leak"))
            yield conn

    @asynccontextmanager
    async def reporting_transaction(self, principal: Principal) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction on the reporting pool (BYPASSRLS: every query must filter itself)."""
        pool = await self.pool("reporting")
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION READ ONLY")
            await set_tenant_context_async(conn, principal.visible_tenants)
            yield conn

    @asynccontextmanager
    async def connection(self, name: str = "primary") -> AsyncIterator[AsyncConnection]:
        """A bare pooled connection in a transaction, without any tenant context."""
        pool = await self.pool(name)
        async with pool.connection() as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        """Close this loop's pools (the lifespan's shutdown) and free those of dead loops."""
        self._discard_dead_loops()
        for pool in self._pools.pop(asyncio.get_running_loop(), {}).values():
            await pool.close()
