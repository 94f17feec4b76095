"""What a killed run leaves behind, recognised and removed.

SIGKILL (an OOM kill, a CI timeout, ``kill -9``) runs no cleanup: the embedded PostgreSQL (in its own
session, so that Ctrl-C reaches the harness first) keeps running and its directory stays in the
temporary directory, and databases stay on an external server. So each embedded cluster lives in
``$TMPDIR/harness-pg-<owner pid>-<random>/`` with ``owner.pid`` holding the owner's pid and start time
(``/proc/<pid>/stat``, so a recycled pid is not mistaken for the owner), and the owner holds a shared
``flock`` on that file for its lifetime (the kernel drops it with the process, in any pid namespace).
A directory is an orphan only if both say the owner is gone; its postmaster (``data/postmaster.pid``)
is stopped only after checking it is a postgres process serving that very data directory.

:func:`clean_clusters` runs before every embedded start and from ``tenant-harness clean``.
:func:`clean_databases` (``tenant-harness clean --db-url DSN`` only: it is never implicit) drops run
databases (``th<pid>_<seed>_...``, ``threpro_...``) whose owner pid is not running on this host and to
which nobody is connected. Caveat: on a server shared between hosts, the pid of another host's live run
may be free here; the connection check is what protects such a run, so give the DSN deliberately.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "harness-pg-"
OWNER_FILE = "owner.pid"
_CLUSTER_DIR = re.compile(r"^harness-pg-(\d+)-[A-Za-z0-9_]+$")
_RUN_DB = re.compile(r"^(?:th(\d+)_\d+_|threpro_(?:(\d+)_)?\d+_)[a-z][a-z0-9_]*$")


# -- processes ---------------------------------------------------------------------------------------
def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def alive(pid: int) -> bool:
    """True if ``pid`` is a running process (a zombie is not: it only waits to be reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return not Path("/proc/self").exists()  # no /proc: trust kill(0)


def _cmdline(pid: int) -> list[str]:
    if Path("/proc/self").exists():
        try:
            return [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a]
        except OSError:
            return []
    out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)  # no /proc
    return out.stdout.split()


def is_postmaster_of(pid: int, data: Path) -> bool:
    """True only if ``pid`` runs a postgres binary serving ``data`` (its ``-D`` or its working directory)."""
    argv = _cmdline(pid)
    if not argv or not os.path.basename(argv[0]).startswith(("postgres", "postmaster")):
        return False
    target = os.path.realpath(data)
    try:
        if os.path.realpath(os.readlink(f"/proc/{pid}/cwd")) == target:
            return True
    except OSError:
        pass
    return any(flag == "-D" and os.path.realpath(value) == target for flag, value in zip(argv, argv[1:]))


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_postmaster(pid: int) -> bool:
    """Fast shutdown (SIGINT), then SIGKILL to its process group (the harness starts it in its own)."""
    for signum, wait in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            if signum == signal.SIGKILL and os.getpgid(pid) == pid:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            return True
        if _wait_gone(pid, wait):
            return True
    return False


# -- the owner's side ----------------------------------------------------------------------------------
def claim(root: Path) -> int:
    """Write ``owner.pid`` in a fresh cluster directory and hold a shared lock on it; returns the file
    descriptor to keep open for the cluster's lifetime (closing it, or dying, releases the lock)."""
    fd = os.open(root / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, f"{os.getpid()} {start_time(os.getpid()) or '-'}\n".encode())
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


# -- the cleaner's side --------------------------------------------------------------------------------
@dataclass
class Removed:
    path: Path
    postmaster: int | None  # the server stopped, if one was running
    size: int  # bytes

    def describe(self) -> str:
        server = f"postmaster {self.postmaster}" if self.postmaster else "no server running"
        return f"removed orphaned PostgreSQL cluster {self.path} ({server}, {self.size / 2**20:.0f} MB)"


def _owner(root: Path, name_pid: int) -> tuple[int, str | None]:
    try:
        fields = (root / OWNER_FILE).read_text().split()
        return int(fields[0]), (fields[1] if len(fields) > 1 and fields[1] != "-" else None)
    except (OSError, ValueError, IndexError):
        return name_pid, None  # killed before owner.pid was written: the name still carries the pid


def _owner_alive(pid: int, started: str | None) -> bool:
    if not alive(pid):
        return False
    return started is None or start_time(pid) in (None, started)


def _size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _postmaster_pid(data: Path) -> int | None:
    try:
        return abs(int((data / "postmaster.pid").read_text().split()[0]))  # negative: single-user mode
    except (OSError, ValueError, IndexError):
        return None


def clean_clusters(tmpdir: str | Path | None = None) -> list[Removed]:
    """Stop and remove every embedded cluster in ``tmpdir`` (default: the temporary directory) whose
    owner is gone. Directories of live owners, of other users, or without the harness's naming are
    never touched; nor is one another cleaner is working on."""
    import tempfile

    base = Path(tmpdir or tempfile.gettempdir())
    removed = []
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    for root in entries:
        match = _CLUSTER_DIR.match(root.name)
        if not match or root.is_symlink() or not root.is_dir():
            continue
        try:
            if os.geteuid() != 0 and root.stat().st_uid != os.geteuid():
                continue
        except OSError:
            continue
        result = _clean_one(root, int(match[1]))
        if result:
            removed.append(result)
    return removed


def _clean_one(root: Path, name_pid: int) -> Removed | None:
    lock = None
    try:
        lock = os.open(root / OWNER_FILE, os.O_RDONLY)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while the owner (or a cleaner) holds it
    except BlockingIOError:
        os.close(lock)
        return None
    except OSError:
        if lock is not None:
            os.close(lock)
            return None
        lock = None  # no owner.pid (yet): only the pid in the name can tell
    try:
        if _owner_alive(*_owner(root, name_pid)):
            return None
        data = root / "data"
        postmaster = _postmaster_pid(data)
        if postmaster and alive(postmaster) and is_postmaster_of(postmaster, data):
            if not stop_postmaster(postmaster):
                return None  # still running: leave the directory under it
        else:
            postmaster = None
        size = _size(root)
        shutil.rmtree(root, ignore_errors=True)
        return None if root.exists() else Removed(root, postmaster, size)
    finally:
        if lock is not None:
            os.close(lock)


def clean_databases(admin_dsn: str) -> tuple[list[str], list[str]]:
    """Drop leftover run databases on the server at ``admin_dsn``; returns (dropped, kept) lines."""
    from psycopg import sql

    from harness.db.server import connect

    dropped, kept = [], []
    with connect(admin_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT d.datname, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname) "
            "FROM pg_database d WHERE d.datname LIKE 'th%' AND NOT d.datistemplate ORDER BY d.oid DESC"
        ).fetchall()
        for name, sessions in rows:
            match = _RUN_DB.match(name)
            if not match:
                continue
            pid = int(match[1] or match[2] or 0) or None
            if pid and alive(pid):
                kept.append(f"kept database {name}: its owner, pid {pid}, is running")
                continue
            if sessions:
                kept.append(f"kept database {name}: {sessions} session(s) connected")
                continue
            try:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            except Exception as exc:  # someone connected meanwhile: theirs, not ours
                kept.append(f"kept database {name}: {' '.join(str(exc).split())}")
                continue
            owner = f"owner pid {pid} is gone" if pid else "no owner pid in its name, nobody connected"
            dropped.append(f"dropped database {name} ({owner})")
    return dropped, kept
