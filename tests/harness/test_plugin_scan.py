"""``tenant-harness scan`` end to end (a real pytest run in a subprocess): exit codes, test ids, reports."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def scan(pg_server, scenario: str, out: Path, *extra, workers: int = 0, env: dict | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARNESS_DATABASE_URL": pg_server.admin_dsn, **(env or {})}
    pytest_args = ["-v"] + (["-n", str(workers)] if workers else [])
    return subprocess.run([sys.executable, "-m", "harness.cli", "scan", "--scenario", scenario, "--out", str(out),
                           "-q", *extra, "--", *pytest_args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


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
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tenant-harness: error: scenario file no/such/scenario.py does not exist (pass --harness-scenario PATH)"]
    assert "Traceback" not in result.stdout + result.stderr and "ERROR collecting" not in result.stdout


def test_missing_scenario_is_one_line_from_plain_pytest_too(pg_server, tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "harness/scan/test_isolation.py", "-p", "no:cacheprovider",
                          "-q", "--harness-scenario", "no/such/scenario.py", "--harness-reports", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout[-2000:]
    assert run.stderr.splitlines() == [
        "tenant-harness: error: scenario file no/such/scenario.py does not exist (pass --harness-scenario PATH)"]
    assert "ERROR collecting" not in run.stdout and "Traceback" not in run.stdout


def _pytest_counts(stdout: str) -> dict[str, int]:
    """pytest's own final line: "3 failed, 5 passed, 1 skipped in 2.1s"."""
    import re

    last = [line for line in stdout.splitlines() if re.search(r" in [\d.]+s", line)][-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (failed|passed|skipped|error)", last)}


def _reported(out: Path) -> dict:
    import re
    import xml.etree.ElementTree as ET

    doc = json.loads((out / "findings.json").read_text())
    suite = ET.parse(out / "junit.xml").getroot()
    page = (out / "index.html").read_text()
    return {"json": (doc["summary"]["tests"]["failed"], doc["summary"]["findings"]),
            "junit": (int(suite.get("failures")),
                      len({f.get("message").split(":")[0] for f in suite.iter("failure")
                           if f.get("type") not in ("coverage", "scan")})),
            "html": (int(re.search(r"tests: (\d+) failed", page).group(1)),
                     int(re.search(r"<h1[^>]*>(\d+) finding", page).group(1))),
            "doc": doc}


def test_xdist_divides_the_scan_and_agrees_with_a_serial_run(pg_server, tmp_path):
    serial = scan(pg_server, "tests/harness/toy_leaky.py", tmp_path / "serial", "--seed", "4")
    parallel = scan(pg_server, "tests/harness/toy_leaky.py", tmp_path / "xdist", "--seed", "4", workers=2)
    assert parallel.returncode == serial.returncode == 1, parallel.stdout[-3000:] + parallel.stderr[-2000:]
    assert "2 workers" in parallel.stdout and "Different tests were collected" not in parallel.stdout
    a, b = _reported(tmp_path / "serial"), _reported(tmp_path / "xdist")
    assert {f["id"] for f in a["doc"]["findings"]} == {f["id"] for f in b["doc"]["findings"]} != set()
    assert a["doc"]["summary"]["tests"] == b["doc"]["summary"]["tests"]
    assert [(r["operation"], r["principal"], r["status"]) for r in a["doc"]["coverage"]] == \
        [(r["operation"], r["principal"], r["status"]) for r in b["doc"]["coverage"]]
    assert a["doc"]["run"]["requests"] == b["doc"]["run"]["requests"]
    counts = _pytest_counts(parallel.stdout)
    assert {b["json"][0], b["junit"][0], b["html"][0], counts["failed"]} == {b["doc"]["summary"]["tests"]["failed"]}


def test_database_audit_issues_fail_the_scan_with_their_own_message(pg_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOENIX_FAULTS", "rls-not-forced")
    monkeypatch.setenv("PHOENIX_CLIENTS", "2")
    monkeypatch.setenv("PHOENIX_SUBSIDIARIES", "1")
    result = scan(pg_server, "scenarios/phoenix.py", tmp_path, "--phases", "audit,sweep")
    assert result.returncode == 1
    assert "database audit: 1 issue(s)" in result.stdout, result.stdout[-3000:]
    assert "rls-not-forced: RLS is enabled but not forced" in result.stdout
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert "phase fuzz: not selected" in doc["run"]["skipped"]


def test_a_faulty_phoenix_scan_reports_the_same_numbers_everywhere(pg_server, tmp_path):
    """The issue's measurement, as a test: junit.xml, pytest, findings.json and the HTML header agree, and
    no query (through its endpoint or in the database) appears as an operation."""
    result = scan(pg_server, "scenarios/phoenix.py", tmp_path, "--phases", "sweep,reports,noninterference",
                  env={"PHOENIX_FAULTS": "all", "PHOENIX_CLIENTS": "2", "PHOENIX_SUBSIDIARIES": "1"})
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    reported = _reported(tmp_path)
    doc = reported.pop("doc")
    pytest_failed = _pytest_counts(result.stdout)["failed"]
    assert {failed for failed, _ in reported.values()} == {pytest_failed}, (reported, pytest_failed)
    assert {found for _, found in reported.values()} == {len(doc["findings"])}, reported
    operations = doc["run"]["operations"]
    assert len(operations) == 49 and not [op for op in operations if op.startswith("query ")]
    assert {r["operation"] for r in doc["coverage"]} == set(operations)
    queries = [f for f in doc["findings"] if f["subject"] == "query"]
    assert queries and all(f["query"] in doc["run"]["queries"] for f in queries)
    assert any(f["operation"] == "POST /api/reports/{name}" for f in queries)  # through the endpoint
    assert not [f for f in doc["findings"] if f["subject"] == "operation" and f["operation"].startswith("query ")]
    leaking = {f["query"] for f in queries}
    rows = {(q["query"], q["principal"]): q for q in doc["queries"]}
    for f in queries:
        assert f["id"] in rows[(f["query"], f["principal"])]["findings"]
    assert {q["query"] for q in doc["queries"] if q["test"] == "failed"} >= leaking
    # --phases without fuzz, yet no gap is blamed on the phases left out
    assert doc["run"]["gates"] == {"operations": True, "queries": True, "stale_waivers": False}
    # Evidence is an excerpt everywhere: never over 500 characters (a whole CSV export once was).
    assert any(f["kind"] == "non-interference" for f in doc["findings"])
    assert max(len(f["evidence"]) for f in doc["findings"]) <= 500
    sarif = json.loads((tmp_path / "findings.sarif").read_text())
    assert max(len(r["properties"]["evidence"]) for r in sarif["runs"][0]["results"]) <= 500
    html = (tmp_path / "index.html").read_text()
    assert max(len(block) for block in re.findall(r"<h4>Evidence</h4><pre>(.*?)</pre>", html, re.S)) <= 600  # escaped


def test_the_division_of_work_is_deterministic_whole_resources_and_complete():
    from harness.partition import divide

    ops = ["GET /api/x/projects", "POST /api/x/projects", "GET /api/x/projects/{id}", "GET /api/x/tasks",
           "DELETE /api/x/tasks/{id}", "GET /api/x/users", "GET /api/x/kpis/summary"]
    queries = ["q1", "q2", "q3"]
    shares = divide(ops, queries, 2)
    assert shares == divide(list(reversed(ops)), list(reversed(queries)), 2)  # by label, not by order
    assert sorted(o for s, _ in shares for o in s) == sorted(ops)  # every operation exactly once
    assert sorted(q for _, s in shares for q in s) == queries
    for resource in ("projects", "tasks"):
        owners = {i for i, (s, _) in enumerate(shares) for o in s if f"/{resource}" in o}
        assert len(owners) == 1, resource  # a resource's list, detail and writes stay together
    assert all(s or q for s, q in shares)
    assert divide(ops, queries, 1) == [(set(ops), set(queries))]
    one = ["GET /notes", "GET /notes/{note_id}", "POST /notes"]  # a single resource is not a scope
    assert sorted(len(s) for s, _ in divide(one, [], 2)) == [0, 3]
    scoped = ["GET /w/{slug}/accounts", "GET /w/{slug}/accounts/{id}", "POST /w/{slug}/contacts",
              "GET /w/{slug}/contacts/{id}"]  # a workspace in the path is a scope: resources below it
    assert sorted(len(s) for s, _ in divide(scoped, [], 2)) == [2, 2]
