"""The embedded PostgreSQL: real RLS inside it, and nothing left behind however the run ends.

Each test starts its own throwaway server (about 0.7 s) because what is checked is the server's own
lifecycle; the cleanup cases run in a subprocess so that the ending (a failing test, SIGTERM, Ctrl-C)
is real.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from harness.db import provide_server

REPO = Path(__file__).resolve().parents[1]


def _live_members(pgid: int) -> list[int]:
    """Processes (not zombies) in the server's process group: the postmaster and its children."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def _assert_nothing_left(pid: int, root: str | Path, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while (_live_members(pid) or Path(root).exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_members(pid) == [], f"server processes still running in group {pid}"
    assert not Path(root).exists(), f"{root} was not removed"


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_DATABASE_URL", "HARNESS_DB")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def test_embedded_server_enforces_forced_rls_and_leaves_nothing(monkeypatch):
    monkeypatch.delenv("HARNESS_DATABASE_URL", raising=False)
    with provide_server(mode="embedded") as server:
        assert server.kind == "embedded"
        pid, root = server.pid, server.root
        assert _live_members(pid) and root.is_dir()

        admin = server.create_database("rls_probe")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE ROLE probe_owner LOGIN PASSWORD 'owner-pw'")
            conn.execute("CREATE ROLE probe_app LOGIN PASSWORD 'app-pw'")
            conn.execute("GRANT CREATE ON SCHEMA public TO probe_owner")
        with psycopg.connect(server.dsn("rls_probe", "probe_owner", "owner-pw"), autocommit=True) as owner:
            owner.execute("CREATE TABLE notes (tenant text NOT NULL, body text NOT NULL)")
            owner.execute("INSERT INTO notes VALUES ('a', 'a1'), ('a', 'a2'), ('b', 'b1')")
            owner.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
            owner.execute("ALTER TABLE notes FORCE ROW LEVEL SECURITY")
            owner.execute("CREATE POLICY tenant_only ON notes "
                          "USING (tenant = current_setting('app.tenant', true))")
            owner.execute("GRANT SELECT, INSERT ON notes TO probe_app")
            # FORCE: the table's owner is subject to the policy too, so no context means no rows.
            assert owner.execute("SELECT count(*) FROM notes").fetchone()[0] == 0

        with psycopg.connect(server.dsn("rls_probe", "probe_app", "app-pw"), autocommit=True) as app:
            assert app.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
            with app.transaction():
                app.execute("SET LOCAL app.tenant = 'a'")
                assert sorted(r[0] for r in app.execute("SELECT body FROM notes")) == ["a1", "a2"]
                with pytest.raises(psycopg.errors.InsufficientPrivilege), app.transaction():
                    app.execute("INSERT INTO notes VALUES ('b', 'planted by a')")
            # SET LOCAL ended with the transaction: the connection is back to seeing nothing.
            assert app.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    _assert_nothing_left(pid, root)


def test_a_failing_test_leaves_no_server_behind(tmp_path):
    record = tmp_path / "servers.jsonl"
    (tmp_path / "test_planted_failure.py").write_text(textwrap.dedent("""
        import json, os
        from harness.db import provide_server

        def _record(server):
            with open(os.environ["RECORD"], "a") as f:
                f.write(json.dumps({"pid": server.pid, "root": str(server.root)}) + "\\n")

        def test_fails_inside_the_block():
            with provide_server(mode="embedded") as server:
                _record(server)
                assert False, "planted failure"

        NEVER_CLOSED = []

        def test_fails_with_the_server_never_closed():
            cm = provide_server(mode="embedded")
            NEVER_CLOSED.append(cm)  # only the exit hook can clean this one up
            _record(cm.__enter__())
            assert False, "planted failure"
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_planted_failure.py"], cwd=tmp_path, capture_output=True, text=True,
                         env=_child_env(RECORD=str(record)), timeout=90)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 failed" in run.stdout
    servers = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(servers) == 2
    for server in servers:
        _assert_nothing_left(server["pid"], server["root"])


HOLD_SERVER = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in an interactive shell
signal.signal(signal.SIGTERM, signal.SIG_DFL)
from harness.db import provide_server
with provide_server(mode="embedded") as server:
    print(server.pid, server.root, flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_killed_run_leaves_no_server_behind(signum):
    proc = subprocess.Popen([sys.executable, "-c", HOLD_SERVER], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_child_env(), start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the server did not start within 60 s"
        line = proc.stdout.readline().split()
        assert len(line) == 2, proc.stderr.read()
        pid, root = int(line[0]), line[1]
        assert _live_members(pid) and Path(root).is_dir()
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    _assert_nothing_left(pid, root)
