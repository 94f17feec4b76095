"""Choose the database source: explicit DSN, then testcontainers, then embedded."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from harness import signals
from harness.db.server import DatabaseServer, ExternalServer
from harness.errors import DatabaseUnavailable

ENV_URL = "HARNESS_DATABASE_URL"
ENV_MODE = "HARNESS_DB"
MODES = ("auto", "external", "testcontainers", "embedded")


def choose_mode(url: str | None, mode: str | None, docker_available) -> str:
    """Which source to use; ``docker_available`` is a callable so it is only asked when needed."""
    mode = (mode or "auto").strip().lower()
    if mode not in MODES:
        raise DatabaseUnavailable(f"{ENV_MODE}={mode!r} is not one of {', '.join(MODES)}")
    if url:
        return "external"
    if mode == "external":
        raise DatabaseUnavailable(f"{ENV_MODE}=external needs a DSN: set {ENV_URL} or --harness-db-url")
    if mode != "auto":
        return mode
    return "testcontainers" if docker_available() else "embedded"


@contextlib.contextmanager
def provide_server(url: str | None = None, mode: str | None = None) -> Iterator[DatabaseServer]:
    """Yield a checked, superuser-reachable server; stop it afterwards if the harness started it.

    On the way out, however the block ends (SIGTERM and SIGINT become exceptions here), the databases
    created on the server and not dropped are dropped, then the server is stopped, with further signals
    held until both are done.
    """
    signals.install()
    url = url or os.environ.get(ENV_URL) or None
    mode = mode or os.environ.get(ENV_MODE)
    from harness.db import containers

    chosen = choose_mode(url, mode, containers.docker_available)
    if chosen == "external":
        server: DatabaseServer = ExternalServer(url)
    elif chosen == "testcontainers":
        server = containers.start()
    else:
        from harness.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres().start()
    try:
        server.check()
        yield server
    finally:
        with signals.deferred():
            try:
                server.drop_leftovers()
            finally:
                server.stop()
