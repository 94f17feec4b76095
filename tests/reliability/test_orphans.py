"""SIGKILL leaves an embedded cluster running in its directory; the next start, or ``tenant-harness
clean``, recognises it by its dead owner and removes it, and never touches a cluster whose owner lives.

Each test uses its own temporary directory (``TMPDIR``) so that other runs on the machine neither see
these clusters nor have theirs counted here. It is short and world-traversable: the socket path must
stay under 107 bytes, and as root the cluster runs as an unprivileged account.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from harness import cli
from harness.db import orphans
from harness.db.embedded import EmbeddedPostgres
from tests.reliability.support import databases, finish, first_line, spawn, wait_for

HOLD_CLUSTER = """
import time
from harness.db.embedded import EmbeddedPostgres
server = EmbeddedPostgres().start()
print(server.pid, server.root, flush=True)
time.sleep(120)
"""


@pytest.fixture
def tmpdir_short():
    path = Path(tempfile.mkdtemp(prefix="thrl-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def hold_cluster(tmpdir: Path) -> tuple[subprocess.Popen, int, Path]:
    proc = spawn(["-c", HOLD_CLUSTER], TMPDIR=str(tmpdir))
    pid, root = first_line(proc).split()
    return proc, int(pid), Path(root)


def kill_hard(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        stream.close()


def _reaped_pid() -> int:
    """A pid no process has now (its process ended and was reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_clean_removes_a_killed_runs_cluster_and_spares_a_live_one(tmpdir_short, monkeypatch, capsys):
    killed, killed_pm, killed_root = hold_cluster(tmpdir_short)
    live, live_pm, live_root = hold_cluster(tmpdir_short)
    try:
        assert killed_root.name.startswith(f"harness-pg-{killed.pid}-")
        kill_hard(killed)
        # SIGKILL runs no cleanup: the postmaster (in its own session) and the directory stay.
        assert orphans.alive(killed_pm) and (killed_root / "data" / "postmaster.pid").exists()

        run = subprocess.run([sys.executable, "-m", "harness.cli", "clean"], capture_output=True, text=True,
                             env={**os.environ, "TMPDIR": str(tmpdir_short)}, timeout=60)
        assert run.returncode == 0, run.stderr
        assert re.fullmatch(rf"removed orphaned PostgreSQL cluster {re.escape(str(killed_root))} "
                            rf"\(postmaster {killed_pm}, \d+ MB\)\n", run.stdout), run.stdout
        wait_for(lambda: not orphans.alive(killed_pm), 10, "the orphaned postmaster to go")
        assert not killed_root.exists()

        # The live owner's cluster is untouched and still serves.
        assert orphans.alive(live_pm) and live_root.is_dir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmpdir_short))
        assert cli.main(["clean"]) == 0
        assert capsys.readouterr().out == "nothing to clean\n"
        assert orphans.alive(live_pm) and live_root.is_dir()
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            finish(proc)
    wait_for(lambda: not live_root.exists() and not orphans.alive(live_pm), 10, "the live run's own cleanup")


def test_the_next_embedded_start_removes_the_orphan(tmpdir_short, monkeypatch, capfd):
    killed, postmaster, root = hold_cluster(tmpdir_short)
    kill_hard(killed)
    assert orphans.alive(postmaster) and root.is_dir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir_short))
    server = EmbeddedPostgres().start()
    try:
        assert not root.exists() and not orphans.alive(postmaster)
        assert f"tenant-harness: removed orphaned PostgreSQL cluster {root} (postmaster {postmaster}, " \
            in capfd.readouterr().err
        assert server.root.parent == tmpdir_short and (server.root / orphans.OWNER_FILE).exists()
        with psycopg.connect(server.admin_dsn) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()


def _fake_cluster(base: Path, owner: int, started: str | None, postmaster: int | None = None) -> Path:
    root = base / f"harness-pg-{owner}-fake{len(list(base.iterdir()))}"
    (root / "data").mkdir(parents=True)
    (root / orphans.OWNER_FILE).write_text(f"{owner} {started or '-'}\n")
    if postmaster:
        (root / "data" / "postmaster.pid").write_text(f"{postmaster}\n{root / 'data'}\n")
    return root


def test_only_dead_owners_count_and_only_a_real_postmaster_is_signalled(tmp_path):
    me, my_start = os.getpid(), orphans.start_time(os.getpid())
    bystander = subprocess.Popen(["sleep", "60"])  # a live process that is not a postgres of the directory
    try:
        dead = _fake_cluster(tmp_path, _reaped_pid(), "12345", postmaster=bystander.pid)
        alive = _fake_cluster(tmp_path, me, my_start)
        recycled = _fake_cluster(tmp_path, me, str(int(my_start) + 1))  # same pid, another process
        locked = _fake_cluster(tmp_path, _reaped_pid(), "12345")  # dead pid here, but its lock is held
        lock = orphans.claim(locked)  # (e.g. the owner lives in another pid namespace)
        (locked / orphans.OWNER_FILE).write_text(f"{_reaped_pid()} 12345\n")
        unnamed = tmp_path / "harness-pg-abcdefgh"  # the old naming: owner unknown, never touched
        unnamed.mkdir()

        removed = orphans.clean_clusters(tmp_path)
        os.close(lock)
        assert sorted(r.path for r in removed) == sorted([dead, recycled])
        assert all(r.postmaster is None for r in removed)  # the bystander's pid was not a postmaster
        assert bystander.poll() is None
        assert alive.is_dir() and locked.is_dir() and unnamed.is_dir()
        assert "no server running" in removed[0].describe()
    finally:
        bystander.kill()
        bystander.wait()


def test_clean_with_db_url_drops_only_databases_of_dead_local_owners(pg_server, tmpdir_short):
    gone, me = _reaped_pid(), os.getpid()
    names = {"dead": f"th{gone}_1_tpl", "busy": f"th{gone}_1_run", "live": f"th{me}_1_tpl",
             "repro": "threpro_7_tpl"}
    for name in names.values():
        pg_server.create_database(name)
    try:
        with psycopg.connect(pg_server.dsn(names["busy"])):  # somebody is using it
            run = subprocess.run([sys.executable, "-m", "harness.cli", "clean", "--db-url", pg_server.admin_dsn],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "TMPDIR": str(tmpdir_short)})
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert f"dropped database {names['dead']} (owner pid {gone} is gone)" in lines
        assert f"dropped database {names['repro']} (no owner pid in its name, nobody connected)" in lines
        assert f"kept database {names['busy']}: 1 session(s) connected" in lines
        assert f"kept database {names['live']}: its owner, pid {me}, is running" in lines
        left = databases(pg_server.admin_dsn, "th")
        assert names["busy"] in left and names["live"] in left
        assert names["dead"] not in left and names["repro"] not in left
    finally:
        for name in names.values():
            pg_server.drop_database(name)
