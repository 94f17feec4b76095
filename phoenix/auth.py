"""Logins and bearer tokens.

A token is ``base64url(json claims) + "." + base64url(HMAC-SHA256(secret, claims))``. The claims carry
the principal whole, including the visible tenant set computed at login, so no request can widen it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from phoenix.db import Database
from phoenix.passwords import verify_password
from phoenix.repository import auth as auth_queries
from phoenix.tenancy import ROLES, Principal


class TokenSigner:
    def __init__(self, secret: str, ttl: int = 3600):
        self._key = secret.encode()
        self.ttl = ttl

    def issue(self, principal: Principal, now: float | None = None) -> str:
        claims = {"sub": principal.user_id, "tid": principal.tenant_id, "cid": principal.client_id,
                  "role": principal.role, "vis": list(principal.visible_tenants),
                  "exp": int((now or time.time()) + self.ttl)}
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: float | None = None) -> Principal | None:
        """The token's principal, or None if it is malformed, forged or expired."""
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            claims = json.loads(_unb64(body))
            if claims["exp"] < (now or time.time()) or claims["role"] not in ROLES:
                return None
            return Principal(user_id=claims["sub"], tenant_id=claims["tid"], client_id=claims["cid"],
                             role=claims["role"], visible_tenants=tuple(claims["vis"]))
        except (ValueError, KeyError, TypeError):
            return None

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())


async def authenticate(db: Database, email: str, password: str) -> Principal | None:
    """Check a password and build the principal; None for unknown users, bad passwords, inactive users."""
    row = await auth_queries.login_lookup(db, email)
    if row is None or not row["active"] or not verify_password(password, row["password_hash"]):
        return None
    client_id, client_tenants = await auth_queries.client_scope(db, row["tenant_id"])
    visible = client_tenants if row["role"] == "corporate_admin" else (row["tenant_id"],)
    return Principal(user_id=row["id"], tenant_id=row["tenant_id"], client_id=client_id,
                     role=row["role"], visible_tenants=tuple(visible))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
