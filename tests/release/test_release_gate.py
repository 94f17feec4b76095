"""The release gate and nightly CI: fixtures for hand-written isolation tests, regression tests written
from findings, ``--harness-replay``, the regression corpus, shards merged into one run, the sign-off
report against the previous release, the CI workflows, progress, and a matrix a reviewer can follow.

Scans here are small and limited to the sweep (where these leaks show): the point is the machinery
around a scan, whose detection is tested elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from harness.cli import build_parser
from harness.cli import main as cli
from harness.progress import Progress
from harness.testing import Isolation
from harness.world import seed_template
from tests.harness.countapp import CountScenario

ROOT = Path(__file__).resolve().parents[2]
PHOENIX_SMALL = {"PHOENIX_CLIENTS": "2", "PHOENIX_SUBSIDIARIES": "1"}


def run(argv: list[str], env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def harness(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run(["-m", "harness.cli", *argv], env)


# -- fixtures for isolation tests written by hand ------------------------------------------------------------
HAND_WRITTEN = '''
import pytest

def test_own_notes_are_clean(isolation):
    a = isolation.principals[0]
    response = isolation.get(a, "/notes")
    assert response.status_code == 200 and response.json()
    isolation.assert_no_foreign_rows(response, a)

def test_someone_elses_note_by_id(isolation):
    a, b = isolation.principals
    note = next(r["id"] for r in isolation.world.tables["notes"] if r["tenant_id"] == b.tenant)
    response = isolation.get(a, f"/notes/{note}")
    with pytest.raises(AssertionError, match="foreign value"):
        isolation.assert_no_foreign_rows(response, a)
'''


def test_a_plain_pytest_test_gets_a_seeded_world_and_the_oracles_as_assertions(pg_server, tmp_path):
    (tmp_path / "test_mine.py").write_text(HAND_WRITTEN)
    done = run(["-m", "pytest", str(tmp_path / "test_mine.py"), "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                "--harness-scenario", str(ROOT / "tests/harness/toy_leaky.py"), "--harness-db-url", pg_server.admin_dsn])
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_twins_assert_what_only_other_tenants_change(pg_server):
    """``assert_same_for_twins``: a total counted over every tenant differs in the twin; the list does not."""
    for leak, fails in (("", False), ("total-header", True)):
        scenario = CountScenario([leak] if leak else [])
        template = f"thgate{os.getpid()}_{(leak or 'clean').replace('-', '_')}"
        seed_template(pg_server, scenario, scenario.generate_world(1), template)
        try:
            with Isolation(scenario, 1, server=pg_server, template=template) as iso:
                p = iso.principals[0]
                if fails:
                    with pytest.raises(AssertionError, match=r"\$header.x-total-count: .6. in the base, .10. in the twin"):
                        iso.assert_same_for_twins(p, "GET", "/items")
                else:
                    iso.assert_same_for_twins(p, "GET", "/items")
        finally:
            pg_server.drop_database(template)


def test_the_root_conftest_runs_the_projects_tests_and_scans_phoenix_by_default():
    done = run(["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"])
    assert done.returncode == 0, done.stderr[-2000:]
    collected = done.stdout.splitlines()
    assert any(line.startswith("tests/") for line in collected)
    assert not any("test_isolation" in line for line in collected)  # the scan only when asked for
    conftest = (ROOT / "conftest.py").read_text()
    assert 'DEFAULT_SCENARIO = "scenarios/phoenix.py"' in conftest


# -- regression tests from findings ----------------------------------------------------------------------------
#: Three classes: a row by id (foreign row), a bulk update (write isolation), a status that tells (existence).
REPRO_FAULTS = "idor-get,update-delete-unchecked,document-forbidden-reveals-existence"


def test_each_finding_writes_a_regression_test_that_fails_until_the_fix(pg_server, tmp_path):
    out = tmp_path / "reports"
    env = {**PHOENIX_SMALL, "PHOENIX_FAULTS": REPRO_FAULTS}
    scan = harness("scan", "--scenario", "scenarios/phoenix.py", "--phases", "sweep", "--out", str(out),
                   "--db-url", pg_server.admin_dsn, "-q", env=env)
    assert scan.returncode == 1, scan.stdout[-1500:] + scan.stderr[-1500:]
    doc = json.loads((out / "findings.json").read_text())
    kinds = {f["kind"] for f in doc["findings"]}
    assert {"foreign-row", "write-isolation", "existence"} <= kinds, kinds
    tests = sorted((out / "repro").glob("test_TH_*.py"))
    assert len(tests) == len([f for f in doc["findings"] if f["severity"] == "error"])
    repro = ["-m", "pytest", str(out / "repro"), "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
             "--harness-db-url", pg_server.admin_dsn]
    leaking = run(repro, env)
    assert leaking.returncode == 1 and f"{len(tests)} failed" in leaking.stdout, leaking.stdout[-3000:]
    assert "still leaks" in leaking.stdout
    fixed = run(repro, {**env, "PHOENIX_FAULTS": ""})
    assert fixed.returncode == 0 and f"{len(tests)} passed" in fixed.stdout, fixed.stdout[-3000:]
    # The same without a file: one finding of the last scan, by id.
    first = doc["findings"][0]["id"]
    replay = ["-m", "pytest", "--harness-replay", first, "--harness-reports", str(out), "-q", "-p",
              "no:cacheprovider", "--harness-db-url", pg_server.admin_dsn]
    again = run(replay, env)
    assert again.returncode == 1 and "1 failed" in again.stdout and first in again.stdout, again.stdout[-2000:]


# -- the regression corpus ---------------------------------------------------------------------------------------
def test_a_known_finding_in_the_corpus_is_replayed_first_and_fails_at_once_when_it_returns(pg_server, tmp_path):
    corpus = tmp_path / "corpus"
    common = ["--db-url", pg_server.admin_dsn, "--corpus", str(corpus), "-q", "--seed", "3"]
    first = harness("scan", "--scenario", "tests/harness/toy_leaky.py", "--phases", "sweep",
                    "--out", str(tmp_path / "a"), *common)
    assert first.returncode == 1
    known = sorted(p.stem for p in corpus.glob("TH-*.json"))
    assert known, "the run's findings join the corpus"
    fixed = harness("scan", "--scenario", "tests/harness/toy_clean.py", "--out", str(tmp_path / "b"), *common)
    assert fixed.returncode == 0, fixed.stdout[-1500:]
    back = harness("scan", "--scenario", "tests/harness/toy_leaky.py", "--phases", "replay,sweep",
                   "--out", str(tmp_path / "c"), *common)
    doc = json.loads((tmp_path / "c" / "findings.json").read_text())
    replayed = {f["id"] for f in doc["findings"] if f["phase"] == "replay"}
    assert back.returncode == 1 and replayed and replayed <= set(known)
    assert min(f["requests_before"] for f in doc["findings"] if f["phase"] == "replay") < 5  # at once


# -- shards and the merge --------------------------------------------------------------------------------------
def test_shards_merged_give_what_one_unsharded_run_gives(pg_server, tmp_path):
    env = {"CRM_LEAKS": "contact-idor,accounts-currency-unscoped"}
    base = ["--scenario", "tests/shapes/crm_scenario.py", "--phases", "sweep", "--db-url", pg_server.admin_dsn, "-q"]
    whole = harness("scan", *base, "--out", str(tmp_path / "whole"), env=env)
    shards = [harness("scan", *base, "--shard", f"{i}/2", "--out", str(tmp_path / f"s{i}"), env=env) for i in (1, 2)]
    for done in shards:
        assert done.returncode in (0, 1), done.stderr[-1500:]
    one = json.loads((tmp_path / "s1" / "findings.json").read_text())
    assert {r["status"] for r in one["coverage"]} >= {"unreached"}  # the other shard's operations
    assert all("another shard" in r["reason"] for r in one["coverage"] if r["status"] == "unreached")
    merged = harness("merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "merged"))
    a = json.loads((tmp_path / "whole" / "findings.json").read_text())
    b = json.loads((tmp_path / "merged" / "findings.json").read_text())
    assert merged.returncode == whole.returncode == 1
    assert sorted(f["id"] for f in a["findings"]) == sorted(f["id"] for f in b["findings"])
    status = lambda d: sorted((r["operation"], r["principal"], r["status"]) for r in d["coverage"])  # noqa: E731
    assert status(a) == status(b)
    assert a["summary"]["tests"] == b["summary"]["tests"]
    missing = harness("merge", str(tmp_path / "s1"), "--out", str(tmp_path / "m2"))
    assert missing.returncode == 2 and "shard(s) 2/2 missing" in missing.stderr


# -- the release sign-off -----------------------------------------------------------------------------------------
def test_the_sign_off_lists_new_fixed_and_persisting_findings_and_gates(pg_server, tmp_path):
    """Two releases of the toy app: one with two leaks, one with the sign-up leak fixed, then clean."""
    base = ["--phases", "sweep", "--seed", "3", "--db-url", pg_server.admin_dsn, "-q"]
    both = harness("scan", "--scenario", "tests/release/toy_two_leaks.py", *base, "--out", str(tmp_path / "both"))
    one = harness("scan", "--scenario", "tests/harness/toy_leaky.py", *base, "--out", str(tmp_path / "one"))
    clean = harness("scan", "--scenario", "tests/harness/toy_clean.py", *base, "--out", str(tmp_path / "clean"))
    assert (both.returncode, one.returncode, clean.returncode) == (1, 1, 0)
    ids = lambda d: {f["id"] for f in json.loads((tmp_path / d / "findings.json").read_text())["findings"]}  # noqa: E731
    assert ids("one") < ids("both")

    def sign_off(current: str, previous: str) -> tuple[int, str, dict]:
        out = tmp_path / f"signoff-{current}"
        done = harness("release", "--findings", str(tmp_path / current), "--previous",
                       str(tmp_path / previous / "findings.json"), "--out", str(out))
        text = (out / "release.md").read_text()
        lines = {m.group(1): set(m.group(2).split(", ")) - {"none"}
                 for m in re.finditer(r"^- (new|fixed|still present) \(\d+\): (.*)$", text, re.M)}
        return done.returncode, text, lines

    code, text, lines = sign_off("one", "both")  # the sign-up leak was fixed
    assert code == 1 and "Tenant isolation sign-off: **FAIL**" in text and "## What was tested" in text
    assert lines == {"new": set(), "fixed": ids("both") - ids("one"), "still present": ids("one")}
    assert "## Database audit" in text and "## Waivers" in text
    code, _, lines = sign_off("both", "one")  # and the other way round: it is new
    assert lines == {"new": ids("both") - ids("one"), "fixed": set(), "still present": ids("one")}
    code, text, lines = sign_off("clean", "one")
    assert code == 0 and "**PASS**" in text and lines == {"new": set(), "fixed": ids("one"), "still present": set()}
    assert (tmp_path / "signoff-clean" / "release.html").read_text().startswith("<!DOCTYPE html>")


# -- CI workflows --------------------------------------------------------------------------------------------------
def _documented_make_targets() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    return {t for t in phony if f"make {t}" in readme}


def test_workflows_parse_and_run_only_documented_commands():
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {f.name for f in files} >= {"isolation.yml", "isolation-nightly.yml", "isolation-release.yml"}
    targets = _documented_make_targets()
    parser = build_parser()
    ran = set()
    for file in files:
        flow = yaml.safe_load(file.read_text())
        assert flow.get("jobs") and (flow.get("on") or flow.get(True)), file.name
        for job in flow["jobs"].values():
            for step in job["steps"]:
                for line in filter(None, (step.get("run") or "").splitlines()):
                    line = re.sub(r"\$\{\{[^}]*\}\}", "1", line.strip())
                    if line.startswith("sudo apt-get install"):
                        continue  # the machine's PostgreSQL binaries (README: where the database comes from)
                    words = shlex.split(line)
                    if words[0] == "make":
                        assert words[1] in targets, f"{file.name}: `{line}` is not a documented make target"
                        ran.add(words[1])
                    else:
                        assert words[0].endswith("tenant-harness"), f"{file.name}: `{line}` is not a documented command"
                        parser.parse_args(words[1:])  # a flag that does not exist fails here
    assert {"test", "scan", "scan-shard", "merge", "release", "summary"} <= ran


# -- progress, and a matrix a reviewer can follow ----------------------------------------------------------------
def test_progress_is_one_line_per_quarter_off_a_terminal():
    lines, clock = [], iter(range(100))
    progress = Progress(lines.append, tty=False, clock=lambda: next(clock))
    progress.start("sweep", 8, requests=0)
    for done in range(1, 9):
        progress.step(done, findings=done // 4, requests=done * 50)
    assert len(lines) == 3 and lines[0].startswith("[harness] sweep") and "2/8 operations" in lines[0]
    assert "req/s" in lines[-1] and "1 finding," in lines[-1]


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links, self.failing_rows, self._cell, self._row = set(), [], [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "tr" and a.get("class") == "failing":
            self.failing_rows.append(a.get("id"))
        if tag == "td":
            self._cell = a.get("class")
        if tag == "a" and self._cell in ("finding", "uncovered"):
            self.links.append((self._cell, a["href"]))

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None


def test_every_failing_cell_of_the_matrix_links_to_what_failed(pg_server, tmp_path):
    out = tmp_path / "r"
    done = harness("scan", "--scenario", "tests/harness/toy_leaky.py", "--phases", "sweep", "--out", str(out),
                   "--db-url", pg_server.admin_dsn, "-q")
    assert done.returncode == 1
    page = _Cells()
    page.feed((out / "index.html").read_text())
    doc = json.loads((out / "findings.json").read_text())
    failing = [c for c in doc["coverage"] if c["test"] == "failed"]
    assert failing and len(page.links) == len(failing)
    assert all(href.startswith("#") and href[1:] in page.ids for _, href in page.links)
    assert {href[1:] for kind, href in page.links if kind == "finding"} <= {f["id"] for f in doc["findings"]}
    assert page.failing_rows and all(f"#{row}" in (out / "index.html").read_text() for row in page.failing_rows)
