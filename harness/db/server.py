"""A PostgreSQL server the harness may create and drop databases on.

Every database made through :meth:`DatabaseServer.create_database` is recorded in a process-wide
registry until :meth:`~DatabaseServer.drop_database` drops it. Whatever the normal path did not drop
(a crash, SIGTERM, Ctrl-C) is dropped by :func:`harness.db.provide_server` on the way out and, as a
last resort, at exit: an external server outlives the run, so nothing else would. Servers the harness
started (``disposable``: embedded, testcontainers) skip the drops, stopping them discards everything.
"""

from __future__ import annotations

import atexit
import re
import sys
import threading
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from harness import signals
from harness.errors import DatabaseUnavailable

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def with_database(dsn: str, dbname: str, user: str | None = None, password: str | None = None) -> str:
    """The same server URL, pointing at another database (and optionally another user)."""
    parts = urlsplit(dsn)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if user is None:
        userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    else:
        userinfo = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    netloc = f"{userinfo}@{netloc}" if userinfo else netloc
    return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, parts.fragment))


def redact(dsn: str) -> str:
    """The DSN with its password replaced, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)


def connect(dsn: str, **kwargs) -> psycopg.Connection:
    """Connect, turning connection failures into a one-line :class:`DatabaseUnavailable`."""
    try:
        return psycopg.connect(dsn, connect_timeout=5, **kwargs)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {redact(dsn)}: {reason}. "
            "Check --harness-db-url / HARNESS_DATABASE_URL, or unset it to use an embedded server."
        ) from None


class DatabaseServer:
    """A server reachable with a superuser DSN (``admin_dsn`` points at its maintenance database)."""

    #: True when stopping the server discards its databases (the harness started it).
    disposable = False

    def __init__(self, admin_dsn: str, kind: str):
        self.admin_dsn = admin_dsn
        self.kind = kind

    def dsn(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        return with_database(self.admin_dsn, dbname, user, password)

    def check(self) -> str:
        """Connect once and return the server version; fail with one line if the server is unusable."""
        with connect(self.admin_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT current_setting('server_version'), rolsuper FROM pg_roles "
                               "WHERE rolname = current_user").fetchone()
        if not row or not row[1]:
            raise DatabaseUnavailable(
                f"{redact(self.admin_dsn)} is not a superuser connection: the harness needs one to "
                "create roles and clone template databases")
        return row[0]

    def create_database(self, name: str, template: str | None = None) -> str:
        """``CREATE DATABASE name [TEMPLATE template]``; returns the superuser DSN of the new database.

        Creating and registering happen with SIGTERM/SIGINT held, so a database never exists unrecorded.
        """
        _check_name(name)
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            _check_name(template)
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template))
        signals.install()
        with signals.deferred():
            with connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(stmt)
            with _LOCK:
                _CREATED[(self.admin_dsn, name)] = self
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection left open to it."""
        _check_name(name)
        with signals.deferred():
            with connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            with _LOCK:
                _CREATED.pop((self.admin_dsn, name), None)

    def created_databases(self) -> list[str]:
        """Databases this object created and nobody dropped yet, oldest first (another object for the
        same DSN, say the test suite's own server, keeps its databases)."""
        with _LOCK:
            return [name for (_, name), server in _CREATED.items() if server is self]

    def drop_leftovers(self) -> list[str]:
        """Drop what the normal path left (newest first: clones before their template); returns the
        names dropped. A disposable server's databases are only forgotten: stopping it discards them.
        Failures go to stderr in one line each; the run is ending and the rest are still worth trying.
        """
        names = self.created_databases()[::-1]
        if self.disposable:
            with _LOCK:
                for name in names:
                    _CREATED.pop((self.admin_dsn, name), None)
            return []
        dropped = []
        for name in names:
            try:
                self.drop_database(name)
                dropped.append(name)
            except Exception as exc:
                print(f"tenant-harness: could not drop database {name} on {redact(self.admin_dsn)}: "
                      f"{' '.join(str(exc).split())}", file=sys.stderr)
        return dropped

    def stop(self) -> None:
        """Nothing to stop for a server the harness did not start."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {redact(self.admin_dsn)}>"


class ExternalServer(DatabaseServer):
    """A server given by DSN; its maintenance database is the one the DSN names."""

    def __init__(self, dsn: str):
        super().__init__(dsn, "external")


_CREATED: dict[tuple[str, str], DatabaseServer] = {}  # (admin DSN, name) -> the server that made it
_LOCK = threading.Lock()


def drop_all_leftovers() -> None:
    """At exit: drop every database still registered, on every server that outlives this process."""
    with signals.deferred(reraise=False):
        with _LOCK:
            servers = list(dict.fromkeys(_CREATED.values()))
        for server in servers:
            server.drop_leftovers()


atexit.register(drop_all_leftovers)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use lower-case letters, digits and _")
