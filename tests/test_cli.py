"""``tenant-harness``: one line of success, or one line of error and exit code 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from harness import cli
from harness.errors import ScenarioError

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("HARNESS_DATABASE_URL", "HARNESS_DB")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          env={**base, **env}, timeout=60)


def assert_one_line_error(run: subprocess.CompletedProcess, *fragments: str) -> str:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("tenant-harness: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_db_check_starts_an_embedded_server_by_default():
    run = run_cli("db-check")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok: PostgreSQL 1") and run.stdout.rstrip().endswith("(embedded)")
    assert len(run.stdout.splitlines()) == 1


def test_db_check_uses_the_given_url(pg_server):
    run = run_cli("db-check", "--db-url", pg_server.admin_dsn)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().endswith("(external)")


def test_db_check_on_a_closed_port_is_one_line(pg_server):
    run = run_cli("db-check", "--db-url", f"postgresql://postgres:pw@127.0.0.1:{closed_port()}/postgres")
    assert_one_line_error(run, "cannot connect", "Connection refused")


def test_db_check_with_a_wrong_password_is_one_line_and_redacted(pg_server):
    dsn = pg_server.dsn("postgres", "postgres", "not-the-password")
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
        pytest.skip("this server trusts every password")
    except psycopg.OperationalError:
        pass
    line = assert_one_line_error(run_cli("db-check", "--db-url", dsn), "cannot connect",
                                 "password authentication failed")
    assert "not-the-password" not in line


def test_environment_mode_errors_are_one_line():
    assert_one_line_error(run_cli("db-check", HARNESS_DB="sqlite"), "HARNESS_DB='sqlite'")


def test_any_harness_error_from_any_subcommand_is_one_line(monkeypatch, capsys):
    def register_broken(subparsers):
        p = subparsers.add_parser("broken")

        def fail(args):
            raise ScenarioError("scenario 'x' names no principals:\n  add at least one")

        p.set_defaults(handler=fail)

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, register_broken])
    assert cli.main(["broken"]) == 2
    err = capsys.readouterr().err
    assert err == "tenant-harness: error: scenario 'x' names no principals: add at least one\n"


def test_usage_errors_and_help(capsys):
    assert cli.main([]) == 2
    assert "usage: tenant-harness" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0
    assert "db-check" in capsys.readouterr().out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("tenant-harness ")


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("tenant-harness")
    if not script.exists():
        pytest.skip("project not installed with pip install -e .")
    run = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and "db-check" in run.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--phases", ","], "--phases ',' names no phase"),
    (["--phases", "replay,noninterference"], "cannot establish coverage of anything"),
    (["--phases", "sweep,bogus"], "unknown phase(s) bogus"),
    (["--deadline", "0"], "--deadline '0' must be a positive number of seconds"),
    (["--deadline", "soon"], "--deadline 'soon' must be a positive number of seconds"),
])
def test_scan_option_errors_are_one_line_before_anything_starts(tmp_path, args, fragment):
    run = run_cli("scan", "--scenario", "tests/harness/toy_clean.py", "--out", str(tmp_path / "out"), *args)
    assert_one_line_error(run, fragment)
    assert run.stdout == "" and not (tmp_path / "out").exists()  # no pytest session, nothing written


def test_debug_adds_the_traceback_to_the_one_line(tmp_path):
    plain = run_cli("scan", "--scenario", "no/such.py", "--out", str(tmp_path), "--phases", ",")
    assert_one_line_error(plain, "names no phase")
    debug = run_cli("scan", "--scenario", "no/such.py", "--out", str(tmp_path), "--phases", ",", "--debug")
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1] == plain.stderr.rstrip()


def test_a_harness_bug_is_one_line_with_exit_3(monkeypatch, capsys):
    def register_buggy(subparsers):
        subparsers.add_parser("buggy").set_defaults(handler=lambda args: {}["missing"])

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, register_buggy])
    assert cli.main(["buggy"]) == 3
    err = capsys.readouterr().err
    assert err == ("tenant-harness: internal error: KeyError: 'missing' (rerun with --debug for the traceback, "
                   "and please report it)\n")
