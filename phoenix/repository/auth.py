"""The two queries that run before any tenant is known, both through narrow SECURITY DEFINER functions
owned by ``phoenix_auth`` (the app role itself never bypasses RLS)."""

from __future__ import annotations

from phoenix.db import Database


async def login_lookup(db: Database, email: str) -> dict | None:
    async with db.connection() as conn:
        return await (await conn.execute(
            "SELECT id::text, tenant_id::text, role, password_hash, active FROM phoenix_login_lookup(%s)",
            [email])).fetchone()


async def client_scope(db: Database, tenant_id: str) -> tuple[str, tuple[str, ...]]:
    """The client of ``tenant_id`` and every tenant (subsidiary) of that client."""
    async with db.connection() as conn:
        rows = await (await conn.execute(
            "SELECT client_id::text, tenant_id::text FROM phoenix_client_tenants(%s) ORDER BY tenant_id",
            [tenant_id])).fetchall()
    home = next((r["client_id"] for r in rows if r["tenant_id"] == tenant_id), None)
    return home or "", tuple(r["tenant_id"] for r in rows)
