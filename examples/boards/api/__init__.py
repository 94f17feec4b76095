"""The Boards API: a FastAPI sub-application mounted at ``/api``.

Its OpenAPI document (``/api/openapi.json``) declares ``servers: [{"url": "/api"}]`` and paths relative
to it (``/notes``, not ``/api/notes``): a scanner must honour ``servers`` or it hits the HTML fallback.
"""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from examples.boards.api import accounts, admin, boards, cards, files, notes, workspaces
from examples.boards.api.deps import Context

PREFIX = "/api"


def build_api(context: Context) -> FastAPI:
    api = FastAPI(title="Boards API", version="1.0.0",
                  description="Team boards and private notes (an example target of the tenant-isolation harness).",
                  servers=[{"url": PREFIX}], root_path_in_servers=False)
    api.state.boards = context
    for module in (accounts, notes, files, workspaces, boards, cards, admin):
        api.include_router(module.router)

    @api.exception_handler(psycopg.DataError)
    async def bad_value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # Values pydantic lets through but PostgreSQL refuses (a NUL byte in a string): the client's fault.
        return JSONResponse({"detail": f"invalid value: {exc.diag.message_primary or type(exc).__name__}"},
                            status_code=422)

    return api
