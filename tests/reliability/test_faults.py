"""Fault injection: a target that misbehaves must give a bounded scan with an honest verdict, never a
hang, a crash or a vacuous pass. Each fault is injected into the toy app (tests/reliability/faulty.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.campaign import Campaign, Options
from harness.report import write_reports
from tests.harness.toyapp import ToyScenario
from tests.reliability.faulty import FaultyScenario, huge_body
from tests.reliability.support import REPO, child_env, databases, finish, first_line, spawn


def scan(pg_server, scenario, **options) -> dict:
    return Campaign(scenario, Options(seed=3, db_url=pg_server.admin_dsn, **options)).run()


def cli(pg_server, fault: str, out, *args, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "harness.cli", "scan", "--scenario",
                          "tests/reliability/faulty_scenario.py", "--db-url", pg_server.admin_dsn,
                          "--out", str(out), "-q", *args], cwd=REPO, capture_output=True, text=True,
                         timeout=timeout, env=child_env(HARNESS_TEST_FAULT=fault))
    return run, time.monotonic() - started


def rows(doc: dict, operation: str) -> list[dict]:
    return [r for r in doc["coverage"] if r["operation"] == operation]


def test_a_slow_endpoint_times_out_and_the_scan_moves_on(pg_server):
    """60 s in the event loop (cancellable) and 60 s in a worker thread (not): neither stalls the scan."""
    started = time.monotonic()
    doc = scan(pg_server, FaultyScenario("slow"), timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 45, f"the scan took {elapsed:.0f} s"
    for op in ("GET /slow", "GET /stuck"):
        cells = rows(doc, op)
        assert sum(r["statuses"].get("timeout", 0) for r in cells) == 3  # then the operation is not sent again
        assert all(r["status"] == "uncovered" for r in cells)
        reasons = " ".join(r["reason"] for r in cells)
        assert "timeout×3" in reasons and "the operation timed out 3 times" in reasons
    assert doc["run"]["timeouts"] == 6 and doc["run"]["incomplete"] is None
    assert sum("no answer within 1 s" in e for e in doc["summary"]["errors"]) == 6
    assert {r["status"] for r in rows(doc, "GET /notes")} == {"covered"}  # the rest of the scan went on
    failed = {r["operation"] for r in doc["coverage"] if r["test"] == "failed"}
    assert failed == {"GET /slow", "GET /stuck"}, failed


def test_the_deadline_stops_the_scan_writes_incomplete_reports_and_exits_124(pg_server, tmp_path):
    run, elapsed = cli(pg_server, "slow", tmp_path, "--deadline", "12", "--timeout", "50")
    assert run.returncode == 124, run.stdout[-2000:] + run.stderr[-2000:]
    assert elapsed < 45, f"{elapsed:.0f} s for a 12 s deadline"
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["run"]["incomplete"].startswith("the scan's deadline of 12 s passed during phase ")
    assert doc["summary"]["incomplete"] and not doc["summary"]["ok"]
    assert "Incomplete: the scan" in (tmp_path / "index.html").read_text()
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.find("properties/property[@name='incomplete']") is not None
    assert "Traceback" not in run.stdout + run.stderr


def test_a_huge_body_costs_the_scan_less_than_four_times_its_size(pg_server):
    body = len(huge_body())  # built before measuring: the app's copy is not the scan's
    tracemalloc.start()
    try:
        doc = scan(pg_server, FaultyScenario("huge"), phases=("sweep", "fuzz", "noninterference"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert {r["status"] for r in rows(doc, "GET /export/notes")} == {"covered"}
    assert doc["run"]["requests"] > 20
    assert peak < 4 * body, f"peak {peak / 2**20:.0f} MB for a {body / 2**20:.0f} MB body"


def test_an_api_answering_empty_200s_does_not_pass(pg_server):
    doc = scan(pg_server, FaultyScenario("empty"), phases=("sweep", "fuzz"))
    assert not doc["summary"]["ok"] and doc["summary"]["covered"] == 0
    for row in doc["coverage"]:
        assert row["status"] == "uncovered" and row["test"] == "failed"
        # a JSON operation: an empty 200 is no JSON; a create: 200 is not the 201 it promises
        assert ("200 empty body where the spec promises application/json" in row["reason"]
                or "200 where the spec promises 201" in row["reason"]), row["reason"]
    assert doc["summary"]["tests"]["failed"] == len(doc["coverage"])


def test_invalid_utf8_in_a_response_neither_crashes_nor_hides_the_leak(pg_server, tmp_path):
    doc = scan(pg_server, FaultyScenario("badutf8"), phases=("sweep",))
    leaks = [f for f in doc["findings"] if f["operation"] == "GET /notes/{note_id}" and f["kind"] == "foreign-row"]
    assert leaks, doc["findings"]
    assert any("200 application/json body that is not JSON" in (r["reason"] or "") or r["status"] == "covered"
               for r in rows(doc, "GET /notes/{note_id}"))
    paths = {p.name: p for p in write_reports(doc, tmp_path)}
    ET.parse(paths["junit.xml"])  # still well-formed XML
    json.loads(paths["findings.json"].read_text())
    assert leaks[0]["id"] in paths["index.html"].read_text()


@pytest.mark.parametrize("fault, shown", [("garbage-login", "an empty body"),
                                          ("garbage-login-html", "'<html><body>Welcome!</body></html>'")])
def test_a_login_answering_garbage_is_one_line(pg_server, tmp_path, fault, shown):
    run, _ = cli(pg_server, fault, tmp_path)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stderr.splitlines() == [
        f"tenant-harness: error: login of aardvark:user answered 200 with {shown} instead of a JSON object: "
        "check the login endpoint (POST /login)"], run.stderr
    assert "Traceback" not in run.stdout and "JSONDecodeError" not in run.stdout + run.stderr


def test_the_same_error_is_one_line_from_pytest_with_the_plugin(pg_server, tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "harness/scan/test_isolation.py", "-p", "no:cacheprovider",
                          "-q", "--harness-scenario", "tests/reliability/faulty_scenario.py",
                          "--harness-db-url", pg_server.admin_dsn, "--harness-reports", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=120,
                         env=child_env(HARNESS_TEST_FAULT="garbage-login"))
    assert run.returncode == 2, run.stdout[-2000:]
    assert run.stderr.splitlines() == [
        "tenant-harness: error: login of aardvark:user answered 200 with an empty body instead of a JSON object: "
        "check the login endpoint (POST /login)"], run.stderr
    assert "ERROR collecting" not in run.stdout and "Traceback" not in run.stdout


def _read_only_dir(tmp_path: Path) -> Path | None:
    """A directory this process cannot write to, even as root (a read-only mount), or None."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        (ro / "probe").write_text("x")
    except OSError:
        return ro
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, _, opts = line.split()[:4]
        if "ro" in opts.split(",") and Path(mount).is_dir() and not mount.startswith(("/proc", "/sys/fs/cgroup")):
            return Path(mount)
    return None


@pytest.mark.parametrize("kind", ["read-only", "under-a-file"])
def test_an_unwritable_out_is_one_line_before_anything_is_scanned(pg_server, tmp_path, kind):
    if kind == "read-only":
        out = _read_only_dir(tmp_path)
        if out is None:
            pytest.skip("no read-only directory here (root ignores permission bits, no read-only mount)")
        out = out / "reports"
    else:
        (tmp_path / "file").write_text("not a directory")
        out = tmp_path / "file" / "reports"
    run, elapsed = cli(pg_server, "slow", out)
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"tenant-harness: error: cannot write reports to {out}: ")
    assert line.endswith(": choose a writable --out directory")
    assert run.stdout == "" and elapsed < 20  # nothing scanned, no pytest session


def test_sigterm_mid_scan_writes_partial_reports_marked_incomplete(pg_server, tmp_path):
    proc = spawn(["-m", "harness.cli", "scan", "--scenario", "tests/reliability/faulty_scenario.py",
                  "--db-url", pg_server.admin_dsn, "--out", str(tmp_path), "--timeout", "30"],
                 HARNESS_TEST_FAULT="slow")
    tag = f"th{proc.pid}_"
    try:
        line = ""
        while "phase replay" not in line and proc.poll() is None:  # the progress lines (no -q)
            line = first_line(proc, 90)
        time.sleep(5)  # into the sweep: GET /notes answered, GET /slow waiting its 30 s
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 143, out[-2000:] + err[-2000:]
    assert err.splitlines() == ["tenant-harness: interrupted (SIGTERM)"], err
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["run"]["incomplete"] == "interrupted (SIGTERM)" and not doc["summary"]["ok"]
    assert doc["run"]["requests"] > 0
    assert {p.name for p in tmp_path.iterdir()} >= {"junit.xml", "findings.sarif", "index.html", "summary.md"}
    assert databases(pg_server.admin_dsn, tag) == []


def test_the_toy_app_is_still_clean_and_covered_with_the_stricter_coverage(pg_server):
    doc = scan(pg_server, ToyScenario(), phases=("sweep", "fuzz"))
    assert doc["summary"]["ok"] and doc["summary"]["covered"] == len(doc["coverage"])


def test_huge_texts_are_scanned_in_windows_without_missing_or_repeating_a_marker():
    from harness.markers import SCAN_WINDOW, OwnershipIndex

    marker = "Bumblebee note number 7 of 4"
    index = OwnershipIndex({marker: frozenset({"b"}), "zz-other-marker-zz": frozenset({"a"})})
    for start in (SCAN_WINDOW - 5, SCAN_WINDOW, 2 * SCAN_WINDOW - len(marker), 0):
        text = "x" * start + marker + "y" * (2 * SCAN_WINDOW + 100 - start)
        hits = [h for h in index.scan(text) if h.marker == marker]
        assert [(h.start, h.end) for h in hits] == [(start, start + len(marker))], start
    twice = marker + "x" * (SCAN_WINDOW * 2) + marker
    assert [h.start for h in index.foreign_hits(twice, frozenset({"a"}))] == [0, len(twice) - len(marker)]
