"""``python -m phoenix``: the fault listing, serve's argument errors, and the demo's setup."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from phoenix_client import running

from phoenix import __main__ as cli
from phoenix import faults


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("PHOENIX_DATABASE_URL", "PHOENIX_FAULTS")}
    return subprocess.run([sys.executable, "-m", "phoenix", *args], capture_output=True, text=True,
                          env={**environ, **(env or {})}, timeout=60)


def test_faults_prints_one_tab_separated_line_per_registered_fault_sorted():
    out = _run("faults")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    faults.parse("")
    assert [line.split("\t")[0] for line in lines] == sorted(faults.REGISTRY)
    for line in lines:
        name, cls, affects, description = line.split("\t")
        fault = faults.REGISTRY[name]
        assert (cls, affects.split(","), description) == (fault.cls, list(fault.affects), fault.description)


@pytest.mark.parametrize("args, message", [
    ((), "serve needs --db-url"),
    (("--db-url", "mysql://x/y"), "must be a postgresql:// URL"),
    (("--db-url", "postgresql://u@h/d", "--port", "70000"), "port must be 1..65535"),
    (("--db-url", "postgresql://u@h/d", "--port", "http"), "not a port number"),
])
def test_serve_rejects_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_serve_argument_errors_are_reported_on_stderr():
    out = _run("serve")
    assert out.returncode == 2 and "serve needs --db-url" in out.stderr


def test_demo_setup_gives_working_logins_for_every_role(pg_server, monkeypatch):
    name = f"phoenix_demo_test_{os.getpid()}"
    monkeypatch.delenv("PHOENIX_FAULTS", raising=False)
    demo = cli.prepare_demo(pg_server, name=name)
    try:
        assert set(demo.logins) == {"user", "admin", "corporate_admin"}

        class DB:  # what phoenix_client.running needs
            app_dsn = demo.app_dsn

        with running(DB, monkeypatch) as api:
            for email, password in demo.logins.values():
                r = api.client.post("/api/auth/login", json={"email": email, "password": password})
                assert r.status_code == 200, r.text
                token = r.json()["access_token"]
                assert api.client.get("/api/dashboard/projects",
                                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        pg_server.drop_database(name)
