"""A small connection pool with one transaction per ``with`` block.

Handlers are plain ``def`` functions (FastAPI runs them in its thread pool), so the pool is the
synchronous psycopg one. It opens lazily on first use: a mounted sub-application never sees lifespan
events, and an app built by ``create_app`` but never served should not hold connections.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


class Database:
    def __init__(self, dsn: str, max_size: int = 8):
        self._pool = ConnectionPool(dsn, min_size=1, max_size=max_size, open=False,
                                    kwargs={"row_factory": dict_row}, name="boards")
        self._lock = threading.Lock()
        self._opened = False

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection in a transaction: committed when the block ends, rolled back if it raises."""
        if not self._opened:
            with self._lock:
                if not self._opened:
                    self._pool.open(wait=True, timeout=10)
                    self._opened = True
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self._pool.close()
                self._opened = False
