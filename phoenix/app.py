"""The Phoenix FastAPI application."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from phoenix.api import auth as auth_api
from phoenix.api import billing, customers, directory, inbox, insights, projects, tasks, work
from phoenix.auth import TokenSigner
from phoenix.cache import ResponseCache
from phoenix.config import Settings
from phoenix.db import Database
from phoenix.repository.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("phoenix")


def create_app(db_url: str | None = None, *, reporting_db_url: str | None = None,
               secret: str | None = None) -> FastAPI:
    settings = Settings.load(db_url, reporting_db_url=reporting_db_url, secret=secret)
    db = Database(settings.db_url, reporting_dsn=settings.reporting_db_url, worker_dsn=settings.worker_db_url,
                  owner_dsn=settings.migration_db_url, faults=settings.faults, pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await db.close()

    app = FastAPI(title="Phoenix", version="1.0.0", lifespan=lifespan,
                  description="Multi-tenant project & billing dashboard (the harness's reference target).")
    app.state.settings = settings
    app.state.db = db
    app.state.tokens = TokenSigner(settings.secret, settings.token_ttl)
    app.state.cache = ResponseCache(ttl=30.0, tenant_keyed="cache-key-without-tenant" not in settings.faults)

    app.include_router(auth_api.router)
    app.include_router(customers.routes(settings.faults))
    for module in (projects, tasks, billing, work, directory, inbox, insights):
        app.include_router(module.router)
    try:
        from phoenix.reporting.api import router as reporting_router
    except ImportError:  # the report engine is optional
        reporting_router = None
    if reporting_router is not None:
        app.include_router(reporting_router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    def error(status: int, detail: str) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route whose path matched; list them all.
            path = request.url.path
            methods = {m for r in request.app.routes if isinstance(r, APIRoute) and r.path_regex.match(path)
                       for m in r.methods}
            headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return error(404, str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return error(403, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict):
        return error(409, str(exc))

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid):
        return error(422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError):
        # One string, like every other error of this API ({"detail": str}).
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error(422, "; ".join(parts) or "invalid request")

    @app.exception_handler(psycopg.errors.DataError)
    async def bad_data(request: Request, exc: psycopg.errors.DataError):
        # Values the models let through but PostgreSQL refuses (e.g. out-of-range numbers).
        log.info("data error on %s %s: %s", request.method, request.url.path, exc)
        return error(422, "invalid value")

    @app.exception_handler(UnicodeEncodeError)
    async def bad_text(request: Request, exc: UnicodeEncodeError):
        return error(422, "text must be valid Unicode")
