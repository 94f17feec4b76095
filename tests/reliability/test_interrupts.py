"""SIGTERM and Ctrl-C: the run's databases are dropped, even on a server the harness did not start, and
the command ends with exit 128 + signal and one line on stderr, never a traceback.

The "external" server is the session's embedded one (``pg_server.admin_dsn``), reached by DSN exactly as
``--db-url`` would; each child names its databases after its pid so that what it left is unambiguous.
"""

from __future__ import annotations

import signal

import pytest

from harness import signals
from tests.reliability.support import databases, finish, first_line, spawn, wait_for

SIGNALS = [pytest.param(signal.SIGTERM, 143, id="SIGTERM"), pytest.param(signal.SIGINT, 130, id="SIGINT")]

HOLD_DATABASES = """
import os, sys, time
from harness import signals
from harness.db import provide_server

tag = f"threl{os.getpid()}"
try:
    with provide_server(sys.argv[1]) as server:
        server.create_database(f"{tag}_tpl")
        server.create_database(f"{tag}_run", template=f"{tag}_tpl")
        print("ready", flush=True)
        time.sleep(60)
except KeyboardInterrupt as exc:  # what tenant-harness does with it
    sys.exit(signals.report(exc))
"""

# No context manager and no except: only the registry's exit hook can drop these, and the uncaught
# interruption (a SystemExit too) ends the script silently with 128 + signal.
HOLD_BARE = """
import os, sys, time
from harness.db import ExternalServer

server = ExternalServer(sys.argv[1])
server.create_database(f"threl{os.getpid()}_tpl")
server.create_database(f"threl{os.getpid()}_run", template=f"threl{os.getpid()}_tpl")
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signum, code", SIGNALS)
def test_a_signalled_run_drops_its_databases_on_an_external_server(pg_server, signum, code):
    proc = spawn(["-c", HOLD_DATABASES, pg_server.admin_dsn])
    try:
        assert first_line(proc) == "ready"
        tag = f"threl{proc.pid}_"
        assert databases(pg_server.admin_dsn, tag) == [f"{tag}run", f"{tag}tpl"]
        proc.send_signal(signum)
    finally:
        out, err = finish(proc)
    assert proc.returncode == code, err
    assert err == f"tenant-harness: interrupted ({signal.Signals(signum).name})\n"
    assert databases(pg_server.admin_dsn, tag) == []


def test_databases_made_without_a_context_manager_are_dropped_at_exit(pg_server):
    proc = spawn(["-c", HOLD_BARE, pg_server.admin_dsn])
    try:
        assert first_line(proc) == "ready"
        tag = f"threl{proc.pid}_"
        assert len(databases(pg_server.admin_dsn, tag)) == 2
        proc.send_signal(signal.SIGTERM)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 143 and err == "", err
    assert databases(pg_server.admin_dsn, tag) == []


@pytest.mark.parametrize("signum, code", SIGNALS)
def test_a_signalled_scan_exits_with_the_signal_and_leaves_no_database(pg_server, tmp_path, signum, code):
    proc = spawn(["-m", "harness.cli", "scan", "--scenario", "tests/harness/toy_clean.py",
                  "--db-url", pg_server.admin_dsn, "--out", str(tmp_path), "-q"])
    tag = f"th{proc.pid}_"
    try:
        wait_for(lambda: databases(pg_server.admin_dsn, tag) or proc.poll() is not None, 90,
                 "the scan's first database", every=0.1)
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        proc.send_signal(signum)
    finally:
        out, err = finish(proc)
    assert proc.returncode == code, out[-2000:] + err[-2000:]
    assert err.splitlines() == [f"tenant-harness: interrupted ({signal.Signals(signum).name})"], err
    assert "Traceback" not in out + err
    assert databases(pg_server.admin_dsn, tag) == []


def test_signals_held_in_cleanup_are_raised_when_it_ends(monkeypatch):
    """A signal during a deferred block (creating + registering, dropping, stopping) waits for its end."""
    for name, value in (("_received", None), ("_pending", None), ("_depth", 0), ("_callbacks", []),
                        ("_callbacks_ran", False)):
        monkeypatch.setattr(signals, name, value)
    assert signals.install()
    handler = signal.getsignal(signal.SIGTERM)
    if handler is not signals._handle:
        pytest.skip("SIGTERM is handled by someone else in this process")
    calls = []
    signals.on_interrupt(calls.append)
    with pytest.raises(signals.Interrupted) as raised:
        with signals.deferred():
            handler(signal.SIGTERM, None)  # as if delivered here
            calls.append("block finished")
    assert raised.value.signum == signal.SIGTERM and raised.value.exit_code == 143
    assert calls == ["block finished"] and signals.received() == signal.SIGTERM
    with signals.deferred(reraise=False):  # exit hooks: held, then dropped
        handler(signal.SIGINT, None)
    assert signals.report(raised.value) == 143
    assert calls == ["block finished", signal.SIGTERM]
    with pytest.raises(signals.Interrupted):  # outside a deferred block: at once
        handler(signal.SIGINT, None)
