"""The outer application: the API under ``/api`` and a single-page-app HTML fallback everywhere else.

The fallback answers ``GET /`` and every unknown non-API path with 200 ``text/html``, as SPA hosting
does (client-side routing needs it). That is a trap a scanner must not fall into: ``/openapi.json``,
``/notes`` or ``/admin`` "work" here, they just are not the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from examples.boards import leaks as leak_catalogue
from examples.boards.api import PREFIX, build_api
from examples.boards.api.deps import Context
from examples.boards.db import Database

SPA_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Boards</title></head>
<body><div id="root">Loading Boards…</div>
<script>/* the single-page app would boot here and talk to /api */</script></body></html>
"""


def create_app(dsn: str, leaks: Iterable[str] | str = frozenset()) -> FastAPI:
    """The Boards app on ``dsn`` (schema installed: see :func:`examples.boards.schema.install`).

    The leaks on are ``leaks`` (names, or ``"a,b"``) plus those named in ``BOARDS_LEAKS``; ``all`` means every one; an unknown
    name raises ``ValueError``.
    """
    switches = leak_catalogue.Switches(leak_catalogue.parse(leaks) | leak_catalogue.from_env())
    db = Database(dsn)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        db.close()  # a mounted app gets no lifespan of its own, so the outer one closes the pool

    app = FastAPI(title="Boards", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.boards = Context(db, switches)
    app.mount(PREFIX, build_api(app.state.boards))

    @app.get("/{path:path}", include_in_schema=False, response_class=HTMLResponse)
    def spa(path: str) -> str:
        return SPA_HTML

    return app
