"""Serve Boards with uvicorn on a loopback port in a background thread (tests and harness tests).

``running`` binds the socket itself (port 0 = a free port chosen by the kernel) and hands it to uvicorn,
so there is no window in which another process can take the port between choosing and binding it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import uvicorn

from examples.boards.app import create_app
from examples.boards.schema import install


@contextmanager
def running(dsn: str, leaks: Iterable[str] | str = frozenset(), *, host: str = "127.0.0.1", port: int = 0,
            install_schema: bool = True, timeout: float = 15.0) -> Iterator[str]:
    """Serve Boards on ``dsn`` with ``leaks`` on; yields the base URL (``http://127.0.0.1:PORT``).

    The API is at ``base_url + "/api"`` (its spec at ``/api/openapi.json``). ``leaks`` takes names or
    ``"a,b"``; ``BOARDS_LEAKS`` adds to them. The schema is installed first (idempotent) unless told not to.
    The server stops, and its connection pool closes, when the block exits.
    """
    if install_schema:
        install(dsn)
    app = create_app(dsn, leaks)
    # proto=IPPROTO_TCP, not the default 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"boards:{bound}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"Boards did not start on {host}:{bound} (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Boards did not start on {host}:{bound} within {timeout:.0f}s")
            time.sleep(0.02)
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
