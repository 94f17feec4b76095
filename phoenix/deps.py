"""FastAPI dependencies: who is calling (bearer token), which database, which role may do what."""

from __future__ import annotations

import dataclasses
import uuid

from fastapi import Depends, Header, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from phoenix.db import Database
from phoenix.tenancy import Principal

bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login")

TENANT_HEADER = "X-Tenant-ID"


def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    x_tenant_id: uuid.UUID = Header(  # no "| None": the schema must not invite a literal "null"
        None, alias=TENANT_HEADER,
        description="Tenant switcher: narrow the view to one of the tenants you may see "
                    "(corporate admins: one subsidiary). A tenant outside your scope is 404."),
) -> Principal:
    """The authenticated principal (401 without a valid bearer token)."""
    principal = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        principal = request.app.state.tokens.verify(credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    if x_tenant_id is not None:
        principal = switch_tenant(principal, str(x_tenant_id), get_db(request))
    return principal


def switch_tenant(principal: Principal, tenant_id: str, db: Database) -> Principal:
    """Narrow the principal to one tenant it may already see; anything else does not exist (404)."""
    if db.fault("tenant-header-override"):
        # Planted bug: the switcher was written for corporate admins and trusts the header, so the
        # context (and every repository predicate) becomes whatever tenant the caller names.
        return dataclasses.replace(principal, tenant_id=tenant_id, visible_tenants=(tenant_id,))
    if tenant_id not in principal.visible_tenants:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "tenant not found")
    home = tenant_id if principal.is_corporate else principal.tenant_id
    return dataclasses.replace(principal, tenant_id=home, visible_tenants=(tenant_id,))


def require_role(*roles: str):
    """Dependency factory: the principal, or 403 if its role is not one of ``roles``."""
    allowed = frozenset(roles)

    async def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} may not do this")
        return principal

    return dependency


async def authorize(request: Request, principal: Principal = Depends(get_principal)) -> Principal:
    """The principal, checked against :data:`phoenix.api.roles.ROLE_RULES` for the matched route (403)."""
    from phoenix.api.roles import ROLE_RULES

    route = request.scope.get("route")
    key = f"{request.method} {getattr(route, 'path_format', request.url.path)}"
    if principal.role not in ROLE_RULES.get(key, ()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} may not call {key}")
    return principal
