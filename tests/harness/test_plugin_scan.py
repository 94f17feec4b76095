"""``tenant-harness scan`` end to end (a real pytest run in a subprocess): exit codes, test ids, reports."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def scan(pg_server, scenario: str, out: Path, *extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARNESS_DATABASE_URL": pg_server.admin_dsn}
    return subprocess.run([sys.executable, "-m", "harness.cli", "scan", "--scenario", scenario, "--out", str(out),
                           "-q", *extra, "--", "-v"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_clean_scan_exits_zero_with_one_test_per_operation_and_principal(pg_server, tmp_path):
    result = scan(pg_server, "tests/harness/toy_clean.py", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "test_operation[GET /notes/{note_id}][aardvark:user] PASSED" in result.stdout
    assert "coverage: 3/3 operations × 2 principals" in result.stdout
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["findings"] == [] and doc["run"]["seed"] == 1
    assert {p.name for p in tmp_path.iterdir()} >= {"findings.json", "junit.xml", "findings.sarif", "index.html",
                                                    "summary.md"}


def test_leaky_scan_exits_nonzero_and_reports_the_finding(pg_server, tmp_path):
    result = scan(pg_server, "tests/harness/toy_leaky.py", tmp_path, "--seed", "4")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "test_operation[GET /notes/{note_id}][aardvark:user] FAILED" in result.stdout
    doc = json.loads((tmp_path / "findings.json").read_text())
    finding = doc["findings"][0]
    assert finding["operation"] == "GET /notes/{note_id}" and finding["victim_tenant"] in {"aardvark", "bumblebee"}
    assert finding["reproduce"].startswith(f"tenant-harness reproduce {finding['id']}")


def test_missing_scenario_is_a_one_line_error(pg_server, tmp_path):
    result = scan(pg_server, "no/such/scenario.py", tmp_path)
    assert result.returncode not in (0, 1)
    assert "scenario file no/such/scenario.py does not exist" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_database_audit_issues_fail_the_scan_with_their_own_message(pg_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOENIX_FAULTS", "rls-not-forced")
    monkeypatch.setenv("PHOENIX_CLIENTS", "2")
    monkeypatch.setenv("PHOENIX_SUBSIDIARIES", "2")
    result = scan(pg_server, "scenarios/phoenix.py", tmp_path, "--phases", "audit,sweep")
    assert result.returncode == 1
    assert "database audit: 1 issue(s)" in result.stdout, result.stdout[-3000:]
    assert "rls-not-forced: RLS is enabled but not forced" in result.stdout
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert "phase fuzz: not selected" in doc["run"]["skipped"]
