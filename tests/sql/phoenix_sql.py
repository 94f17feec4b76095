"""Drive Phoenix in-process with a statement capture on: what each request ran in the database."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import httpx

from harness.sql.capture import Statement, StatementCapture

TENANT = "techcorp-east"


@dataclass
class Served:
    role: str
    method: str
    path: str
    status: int
    statements: list[Statement]


def tenant_columns() -> dict[str, str]:
    from phoenix.install import TENANT_TABLES

    return {**{t: "tenant_id" for t in TENANT_TABLES}, "tenants": "id"}


def serve(server, db, requests, *, faults: str = "", capture_options=None) -> tuple[StatementCapture, list[Served]]:
    """Send ``requests`` ((role, method, path, json-or-None), …) one at a time; capture each one's statements.

    The capture starts before the app is created, so every pooled session is opened with logging on.
    ``PHOENIX_FAULTS`` is read at app creation (dashboard faults) and per report run (report faults).
    """
    from phoenix.app import create_app

    async def run():
        capture = await StatementCapture.start(server, db.name, **(capture_options or {}))
        app = create_app(db.app_dsn, secret="sql-capture-test")
        served: list[Served] = []
        tokens: dict[str, str] = {}
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phoenix") as client:
                for role, method, path, body in requests:
                    if role not in tokens:
                        login = next(l for l in db.dataset.logins if l.role == role and l.tenant_slug == TENANT)
                        r = await client.post("/api/auth/login", json={"email": login.email, "password": login.password})
                        assert r.status_code == 200, r.text
                        tokens[role] = r.json()["access_token"]
                        await capture.take()  # the login's statements are not the request's
                    r = await client.request(method, path, json=body,
                                             headers={"Authorization": f"Bearer {tokens[role]}"})
                    served.append(Served(role, method, path, r.status_code, await capture.take()))
        finally:
            await app.state.db.close()
            await capture.close()
        return capture, served

    saved = {k: os.environ.get(k) for k in ("PHOENIX_FAULTS", "PHOENIX_POOL_SIZE")}
    os.environ.update(PHOENIX_FAULTS=faults, PHOENIX_POOL_SIZE="1")
    try:
        return asyncio.run(run())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
