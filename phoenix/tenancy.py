"""Who is asking, and which tenants they may see (ADR-007: the tenant context).

A subsidiary user or admin sees its own tenant. A corporate admin sees every subsidiary of its own
client, and never another client's: that set is computed here once, at authentication, and carried in
the :class:`Principal`; every repository query and every RLS policy reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROLES = ("user", "admin", "corporate_admin")


@dataclass(frozen=True)
class Principal:
    user_id: str
    tenant_id: str
    client_id: str
    role: str
    #: The tenants this principal may read: ``(tenant_id,)`` or, for a corporate admin, the client's.
    visible_tenants: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "corporate_admin")

    @property
    def is_corporate(self) -> bool:
        return self.role == "corporate_admin"


def set_tenant_context(conn, tenant_ids: Sequence[str]) -> None:
    """Set the tenant context for the current transaction only (``SET LOCAL`` semantics).

    ``is_local=true`` is the point: the setting ends with the transaction, so a pooled connection
    never carries one request's tenants into the next. RLS policies read it through
    ``phoenix_current_tenants()``. The harness's database-level report runs call this same function.
    """
    conn.execute("SELECT set_config('app.tenant_ids', %s, true)", [",".join(str(t) for t in tenant_ids)])
