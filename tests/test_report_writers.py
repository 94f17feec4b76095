"""The CI reports: each file says the same thing, in the form its reader (CI, dashboard, human) needs.

Every format renders the run model (harness/model.py), so the counts in each (tests failed, findings,
coverage) are asserted equal across formats, and a query's finding shows on its query, never as an
operation of its own.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness import model
from harness.report import FILES, render_terminal, write_reports

# shared/ sits beside the checkout (the work tree here, CI's clean clone there).
SARIF_SCHEMA = next((p for p in (Path(__file__).resolve().parents[2] / "shared/data/sarif-schema-2.1.0.json",
                                 Path("/work/shared/data/sarif-schema-2.1.0.json")) if p.exists()),
                    Path("/work/shared/data/sarif-schema-2.1.0.json"))
GET, POST = "GET /api/dashboard/projects", "POST /api/dashboard/projects"
ADMIN, USER = "techcorp-east:admin", "globex-east:user"
EVIDENCE = '…"name": "<script>alert(1)</script> Globex & Co"\x00…'


def make_doc(findings: bool = True) -> dict:
    """2 operations × 2 principals: one pair with a finding, one covered, one uncovered, one forbidden."""
    finding = {
        "id": "TH-3f9a1c2b", "kind": "foreign-row", "oracle": "ownership-index", "phase": "sweep",
        "operation": GET, "principal": ADMIN, "victim_tenant": "globex-east",
        "request": {"method": "GET", "url": "http://phoenix/api/dashboard/projects?search=a|b",
                    "headers": {"Authorization": "Bearer eyJ-not-for-reports", "Accept": "application/json"},
                    "body": None},
        "status": 200, "evidence": EVIDENCE,
        "curl": "curl -H 'Authorization: Bearer ***' 'http://phoenix/api/dashboard/projects?search=a|b'",
        "reproduce": "tenant-harness reproduce TH-3f9a1c2b", "seed": 7,
        "title": "Project list shows another tenant's project",
    }
    return {
        "run": {"seed": 7, "profile": "pr", "started": "2025-01-02T03:04:05Z", "duration_s": 12.5,
                "target": "phoenix", "scenario": "phoenix", "harness_version": "0.1.0",
                "principals": [ADMIN, USER], "operations": [GET, POST], "queries": ["revenue_by_month"]},
        "coverage": [
            {"operation": GET, "principal": ADMIN, "requests": 4, "ok": 3, "statuses": {"200": 3, "404": 1}},
            {"operation": GET, "principal": USER, "requests": 2, "ok": 2, "statuses": {"200": 2}},
            {"operation": POST, "principal": ADMIN, "requests": 5, "ok": 0, "statuses": {"422": 5},
             "reasons": {}},
            {"operation": POST, "principal": USER, "requests": 1, "ok": 0, "statuses": {"403": 1},
             "forbidden": True},
        ],
        "queries": [{"query": "revenue_by_month", "principal": ADMIN, "runs": 3, "rows": 12},
                    {"query": "revenue_by_month", "principal": USER, "runs": 0, "rows": 0, "forbidden": True}],
        "findings": [finding] if findings else [],
        "summary": {"findings": 1 if findings else 0, "covered": 2, "uncovered": 1, "forbidden": 1,
                    "ok": False, "problems": []},
    }


@pytest.fixture
def reports(tmp_path) -> dict[str, Path]:
    return {p.name: p for p in write_reports(make_doc(), tmp_path / "reports")}


def test_writes_every_report_and_findings_json_is_the_model(reports, tmp_path):
    assert list(reports) == list(FILES)
    assert all(p.parent == tmp_path / "reports" and p.stat().st_size > 0 for p in reports.values())
    text = reports["findings.json"].read_text()
    judged = model.from_document(make_doc()).to_document()
    assert json.loads(text) == judged
    assert text == json.dumps(judged, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # Judging a judged document changes nothing: reports re-rendered from findings.json agree.
    assert model.from_document(judged).to_document() == judged
    assert judged["summary"]["tests"] == {"total": 7, "failed": 2, "passed": 3, "skipped": 2}
    rows = {(r["operation"], r["principal"]): r for r in judged["coverage"]}
    assert rows[(GET, ADMIN)]["findings"] == ["TH-3f9a1c2b"] and rows[(GET, ADMIN)]["test"] == "failed"
    assert rows[(POST, ADMIN)]["status"] == "uncovered" and rows[(POST, USER)]["status"] == "forbidden"


def test_no_report_repeats_a_credential_from_the_request(reports):
    for name in FILES[1:]:
        assert "eyJ-not-for-reports" not in reports[name].read_text(), name


def _cases(path: Path) -> tuple[ET.Element, dict[str, ET.Element]]:
    suite = ET.parse(path).getroot()
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def test_junit_has_a_case_per_pair_with_failures_and_skips(reports):
    suite, cases = _cases(reports["junit.xml"])
    assert suite.tag == "testsuite"
    assert list(cases) == [f"test_operation[{GET}][{ADMIN}]", f"test_operation[{GET}][{USER}]",
                           f"test_operation[{POST}][{ADMIN}]", f"test_operation[{POST}][{USER}]",
                           f"test_query[revenue_by_month][{ADMIN}]", f"test_query[revenue_by_month][{USER}]",
                           "test_scan[summary]"]  # exactly the pytest run's tests, named as pytest names them
    assert {c.get("classname") for c in cases.values()} == {"phoenix"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("7", "2", "2")

    [failure] = cases[f"test_operation[{GET}][{ADMIN}]"].findall("failure")
    assert failure.get("type") == "foreign-row" and "globex-east" in failure.get("message")
    assert "<script>alert(1)</script> Globex & Co" in failure.text  # the NUL did not break the XML
    assert "curl -H 'Authorization: Bearer ***'" in failure.text
    assert "tenant-harness reproduce TH-3f9a1c2b" in failure.text

    [coverage] = cases[f"test_operation[{POST}][{ADMIN}]"].findall("failure")
    assert coverage.get("type") == "coverage" and "422×5" in coverage.get("message")
    assert "rejected as invalid" in coverage.get("message")
    assert "forbidden for this role" in cases[f"test_operation[{POST}][{USER}]"].find("skipped").get("message")
    for passed in (f"test_operation[{GET}][{USER}]", f"test_query[revenue_by_month][{ADMIN}]", "test_scan[summary]"):
        assert cases[passed].find("failure") is None and cases[passed].find("skipped") is None


def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"{SARIF_SCHEMA} is not on this machine")
    schema = json.loads(SARIF_SCHEMA.read_text())
    if "definitions" in schema and "Root" in schema["definitions"] and "properties" not in schema:
        # This copy of the schema keeps the log's shape under definitions/Root and constrains nothing
        # at its top level: validating against it as-is would accept any JSON object.
        schema = {**schema, "$ref": "#/definitions/Root"}
    validator_cls = jsonschema.validators.validator_for(schema)
    return validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)


def test_sarif_validates_and_names_victim_operation_and_fingerprint(reports):
    validator = sarif_validator()
    sarif = json.loads(reports["findings.sarif"].read_text())
    validator.validate(sarif)
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken), "the schema check must be able to fail"

    [run] = sarif["runs"]
    assert sarif["version"] == "2.1.0"
    rules = run["tool"]["driver"]["rules"]
    assert {"foreign-row", "non-interference", "write-isolation", "object-level", "mass-assignment"} <= {
        r["id"] for r in rules}
    assert len({r["id"] for r in rules}) == len(rules) and all(r["help"]["text"] for r in rules)
    [result] = run["results"]
    assert result["ruleId"] == "foreign-row" and rules[result["ruleIndex"]]["id"] == "foreign-row"
    assert result["level"] == "error"
    assert "globex-east" in result["message"]["text"] and GET in result["message"]["text"]
    assert result["locations"][0]["logicalLocations"][0]["name"] == GET
    assert "TH-3f9a1c2b" in result["partialFingerprints"].values()


class _Matrix(HTMLParser):
    """Reads the first matrix back: {(row header, column header): cell class}."""

    def __init__(self):
        super().__init__()
        self.columns, self.cells, self.row, self._in, self._text, self._tables = [], {}, [], None, "", 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._tables += 1
        if self._tables == 1 and tag in ("th", "td"):
            self._in, self._text, self._class = tag, "", attrs.get("class")

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        if self._tables != 1 or tag not in ("th", "td", "tr"):
            return
        if tag == "tr" and self.row:
            if not self.columns:
                self.columns = self.row[1:]
            else:
                for column, (cls, text) in zip(self.columns, self.row[1:]):
                    self.cells[(self.row[0], column)] = (cls, text)
            self.row = []
        elif tag == "th" and self._in == "th":
            self.row.append(self._text)
        elif tag == "td":
            self.row.append((self._class, self._text))
        self._in = None if tag != "tr" else self._in


def test_html_has_headline_matrix_and_escaped_evidence(reports):
    page = reports["index.html"].read_text()
    assert "<h1" in page and ">1 finding</h1>" in page
    assert "coverage: 1/2 operations × 2 principals" in page and "queries: 1/1" in page
    assert "tests: 2 failed, 3 passed, 2 skipped of 7" in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Globex &amp; Co" in page
    assert "tenant-harness reproduce TH-3f9a1c2b" in page and 'id="TH-3f9a1c2b"' in page
    matrix = _Matrix()
    matrix.feed(page)
    assert matrix.columns == [ADMIN, USER]
    assert matrix.cells == {(GET, ADMIN): ("finding", "1"), (GET, USER): ("covered", "✓"),
                            (POST, ADMIN): ("uncovered", "?"), (POST, USER): ("forbidden", "–")}


def test_markdown_summary_has_the_findings_table(reports):
    md = reports["summary.md"].read_text()
    assert md.startswith("## ❌ Tenant isolation: 1 finding\n")
    assert "| id | kind | operation | principal | victim | phase |" in md
    assert (f"| `TH-3f9a1c2b` | foreign-row | `{GET}` | {ADMIN} | globex-east | sweep |") in md
    assert "**coverage: 1/2 operations × 2 principals**" in md
    assert f"- `{POST}` × {ADMIN}: no success the spec promises in 5 requests: 422×5" in md
    assert "tests: 2 failed, 3 passed, 2 skipped of 7" in md


def test_terminal_summary_is_a_table_and_the_coverage_lines():
    text = render_terminal(make_doc())
    lines = text.splitlines()
    assert lines[0] == "tenant isolation: 1 finding"
    assert lines[1].split() == ["ID", "KIND", "OPERATION", "PRINCIPAL", "VICTIM", "PHASE"]
    assert lines[2].split() == ["TH-3f9a1c2b", "foreign-row", "GET", "/api/dashboard/projects", ADMIN,
                                "globex-east", "sweep"]
    assert lines[1].index("PRINCIPAL") == lines[2].index(ADMIN)  # aligned columns
    assert "coverage: 1/2 operations × 2 principals" in lines and "queries: 1/1" in lines
    assert "tests: 2 failed, 3 passed, 2 skipped of 7" in lines
    doc = make_doc()
    doc["run"]["queries"], doc["queries"] = [], []
    assert not any(line.startswith("queries:") for line in render_terminal(doc).splitlines())


def test_output_is_deterministic_whatever_the_finding_order(tmp_path):
    doc = make_doc()
    second = copy.deepcopy(doc["findings"][0])
    second.update(id="TH-00000001", kind="non-interference", principal=USER, victim_tenant="techcorp-east")
    doc["findings"].append(second)
    shuffled = copy.deepcopy(doc)
    shuffled["findings"].reverse()
    first = {p.name: p.read_bytes() for p in write_reports(doc, tmp_path / "a")}
    again = {p.name: p.read_bytes() for p in write_reports(copy.deepcopy(doc), tmp_path / "b")}
    other = {p.name: p.read_bytes() for p in write_reports(shuffled, tmp_path / "c")}
    assert first == again
    assert {k: v for k, v in first.items() if k != "findings.json"} == {
        k: v for k, v in other.items() if k != "findings.json"}
    assert render_terminal(doc) == render_terminal(shuffled)


def test_empty_findings_and_empty_documents_still_render(tmp_path):
    paths = write_reports(make_doc(findings=False), tmp_path / "clean")
    by_name = {p.name: p for p in paths}
    suite, cases = _cases(by_name["junit.xml"])
    assert suite.get("failures") == "1"  # the uncovered pair: no vacuous pass
    assert json.loads(by_name["findings.sarif"].read_text())["runs"][0]["results"] == []
    page, md = by_name["index.html"].read_text(), by_name["summary.md"].read_text()
    assert ">0 findings</h1>" in page and "not a pass: 1 uncovered pair" in page  # zero findings ≠ pass
    assert "| id |" not in md and "**not a pass: 1 uncovered pair**" in md
    assert render_terminal(make_doc(findings=False)).startswith("tenant isolation: 0 findings\ncoverage:")

    for doc in ({}, {"findings": [], "run": {}, "summary": {}}):
        assert [p.name for p in write_reports(doc, tmp_path / "empty")] == list(FILES)
        assert "coverage: 0/0 operations × 0 principals" in render_terminal(doc)


def test_a_declared_pair_with_no_coverage_record_is_uncovered(tmp_path):
    doc = make_doc(findings=False)
    doc["coverage"] = [c for c in doc["coverage"] if (c["operation"], c["principal"]) != (GET, USER)]
    _, cases = _cases(write_reports(doc, tmp_path)[1])
    assert cases[f"test_operation[{GET}][{USER}]"].find("failure").get("type") == "coverage"
    assert "coverage: 0/2 operations × 2 principals" in render_terminal(doc)


@pytest.mark.parametrize("findings", [True, False], ids=["finding", "clean"])
def test_sarif_stays_valid_with_a_scenario_file_problems_and_unknown_kinds(findings, tmp_path):
    validator = sarif_validator()
    doc = make_doc(findings)
    doc["run"]["scenario"] = "scenarios/phoenix.py"
    doc["run"]["waivers"] = [{"id": "TH-0000000000", "reason": "accepted until the migration"}]  # stale
    if findings:
        doc["findings"].append({**doc["findings"][0], "id": "TH-1", "kind": "cache-bleed"})
    sarif = json.loads(write_reports(doc, tmp_path)[2].read_text())
    validator.validate(sarif)
    [run] = sarif["runs"]
    assert run["invocations"][0]["executionSuccessful"] is False
    if findings:
        assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
            "scenarios/phoenix.py"
        assert "cache-bleed" in {r["id"] for r in run["tool"]["driver"]["rules"]}


def test_a_clean_fully_covered_run_reads_as_a_pass(tmp_path):
    doc = make_doc(findings=False)
    doc["coverage"][2].update(ok=5)
    by_name = {p.name: p for p in write_reports(doc, tmp_path)}
    assert by_name["summary.md"].read_text().startswith("## ✅ Tenant isolation: 0 findings\n")
    page = by_name["index.html"].read_text()
    assert '<h1 class="good">0 findings</h1>' in page and "not a pass" not in page
    assert "coverage: 2/2 operations × 2 principals" in render_terminal(doc)


REPORT = "POST /api/reports/{name}"


def _query_doc() -> dict:
    """A run whose report leaks twice: in the database (operation "query …") and through its endpoint."""
    doc = make_doc(findings=False)
    doc["run"]["operations"].append(REPORT)
    doc["coverage"] += [{"operation": REPORT, "principal": p, "requests": 3, "ok": 3, "statuses": {"200": 3}}
                        for p in (ADMIN, USER)]
    base = make_doc()["findings"][0]
    doc["findings"] = [
        {**base, "id": "TH-q1", "operation": "query revenue_by_month", "phase": "reports"},
        {**base, "id": "TH-q2", "operation": REPORT, "query": "revenue_by_month", "phase": "reports"},
    ]
    return doc


def test_a_query_finding_belongs_to_its_query_even_through_its_endpoint(tmp_path):
    paths = {p.name: p for p in write_reports(_query_doc(), tmp_path)}
    doc = json.loads(paths["findings.json"].read_text())
    assert doc["run"]["operations"] == [GET, POST, REPORT]  # no phantom "query …" operation
    assert {(f["id"], f["subject"], f["query"]) for f in doc["findings"]} == {
        ("TH-q1", "query", "revenue_by_month"), ("TH-q2", "query", "revenue_by_month")}
    qrow = next(q for q in doc["queries"] if q["principal"] == ADMIN)
    assert qrow["findings"] == ["TH-q1", "TH-q2"] and qrow["test"] == "failed"
    assert all(not r["findings"] for r in doc["coverage"])  # the endpoint's pairs carry none
    assert "coverage: 2/3 operations × 2 principals" in render_terminal(doc)

    _, cases = _cases(paths["junit.xml"])
    assert len(cases[f"test_query[revenue_by_month][{ADMIN}]"].findall("failure")) == 2
    assert cases[f"test_operation[{REPORT}][{ADMIN}]"].find("failure") is None
    page = paths["index.html"].read_text()
    queries = page.split("<h2>Reporting queries × principals</h2>")[1]
    assert '<td class="finding"' in queries.split("</table>")[0]  # the leaking report is not all ✓
    assert "query revenue_by_month (through POST /api/reports/{name})" in page


def _counts(paths: dict[str, Path]) -> dict[str, tuple]:
    """(failed tests, findings) as each format states them."""
    import re

    doc = json.loads(paths["findings.json"].read_text())
    suite, _ = _cases(paths["junit.xml"])
    failures = [f for f in suite.iter("failure") if f.get("type") not in ("coverage", "scan")]
    page, md = paths["index.html"].read_text(), paths["summary.md"].read_text()
    sarif = json.loads(paths["findings.sarif"].read_text())["runs"][0]["results"]

    def tests_failed(text):
        return int(re.search(r"tests: (\d+) failed", text).group(1))

    return {"findings.json": (doc["summary"]["tests"]["failed"], doc["summary"]["findings"]),
            "junit.xml": (int(suite.get("failures")), len({f.get("message").split(":")[0] for f in failures})),
            "index.html": (tests_failed(page), int(re.search(r"<h1[^>]*>(\d+) finding", page).group(1))),
            "summary.md": (tests_failed(md), int(re.search(r"Tenant isolation: (\d+) finding", md).group(1))),
            "findings.sarif": (None, len([r for r in sarif if not r.get("suppressions")]))}


def test_every_format_gives_the_same_counts(tmp_path):
    counts = _counts({p.name: p for p in write_reports(_query_doc(), tmp_path)})
    failed = {c[0] for c in counts.values() if c[0] is not None}
    found = {c[1] for c in counts.values()}
    assert failed == {2} and found == {2}, counts  # query × ADMIN, POST × ADMIN (coverage)


def test_waivers_keep_the_finding_in_every_report_without_failing_the_scan(tmp_path):
    doc = make_doc()
    doc["run"]["started"] = "2025-06-01T00:00:00+00:00"
    doc["run"]["waivers"] = [
        {"id": "TH-3f9a1c2b", "reason": "fixed in the next release (JIRA-7)", "expires": "2025-07-01"},
        {"kind": "object-level", "operation": POST, "reason": "nothing matches this"},
    ]
    doc["coverage"][2]["ok"] = 5  # so that only the finding and the waivers decide
    paths = {p.name: p for p in write_reports(doc, tmp_path / "a")}
    judged = json.loads(paths["findings.json"].read_text())
    [f] = judged["findings"]
    assert f["waived"] == {"reason": "fixed in the next release (JIRA-7)", "expires": "2025-07-01",
                           "waiver": "TH-3f9a1c2b"}
    assert judged["summary"]["findings"] == 0 and judged["summary"]["waived"] == 1
    assert [w["status"] for w in judged["waivers"]] == ["applied", "stale"]
    assert judged["summary"]["problems"] == [
        "stale waiver object-level on POST /api/dashboard/projects: it matches no finding of this run; remove it "
        "(reason given: nothing matches this)"]
    assert not judged["summary"]["ok"]  # the stale waiver fails the summary, not the waived pair
    _, cases = _cases(paths["junit.xml"])
    assert cases[f"test_operation[{GET}][{ADMIN}]"].find("failure") is None
    assert "waived TH-3f9a1c2b" in cases[f"test_operation[{GET}][{ADMIN}]"].find("system-out").text
    assert cases["test_scan[summary]"].find("failure") is not None
    [result] = json.loads(paths["findings.sarif"].read_text())["runs"][0]["results"]
    assert result["suppressions"][0]["justification"] == "fixed in the next release (JIRA-7)"
    page = paths["index.html"].read_text()
    assert '<td class="waived"' in page and "waived: fixed in the next release (JIRA-7) (until 2025-07-01)" in page

    doc["run"]["waivers"] = doc["run"]["waivers"][:1]
    doc["run"]["started"] = "2025-07-02T00:00:00+00:00"  # the day after it expired
    expired = json.loads(write_reports(doc, tmp_path / "b")[0].read_text())
    [f] = expired["findings"]
    assert f["waived"] is None and f["waiver_expired"]["expires"] == "2025-07-01"
    assert expired["summary"]["findings"] == 1 and expired["waivers"][0]["status"] == "expired"
    assert "waiver expired on 2025-07-01" in (tmp_path / "b" / "index.html").read_text()


def test_a_waiver_without_a_reason_is_a_one_line_error():
    from harness.errors import ScenarioError
    from harness.waivers import parse

    with pytest.raises(ScenarioError, match="needs a reason"):
        parse([{"id": "TH-1"}])
    with pytest.raises(ScenarioError, match="not an ISO date"):
        parse([{"id": "TH-1", "reason": "x", "expires": "next week"}])
    with pytest.raises(ScenarioError, match="finding id, or a kind and an operation"):
        parse([{"kind": "foreign-row", "reason": "x"}])


def test_an_incomplete_run_says_so_everywhere(tmp_path):
    doc = make_doc(findings=False)
    doc["coverage"][2]["ok"] = 5
    reason = "the deadline of 30 s passed during phase fuzz"
    doc["run"]["incomplete"] = reason
    paths = {p.name: p for p in write_reports(doc, tmp_path)}
    judged = json.loads(paths["findings.json"].read_text())
    assert judged["summary"]["incomplete"] == reason and not judged["summary"]["ok"]
    assert f"scan incomplete: {reason}" in judged["summary"]["problems"]
    assert f"Incomplete: {reason}" in paths["index.html"].read_text()
    assert f"Incomplete: {reason}" in paths["summary.md"].read_text()
    assert f"INCOMPLETE: {reason}" in render_terminal(doc)
    sarif = json.loads(paths["findings.sarif"].read_text())["runs"][0]
    assert sarif["invocations"][0]["executionSuccessful"] is False and sarif["properties"]["incomplete"] == reason
    _, cases = _cases(paths["junit.xml"])
    assert reason in cases["test_scan[summary]"].find("failure").get("message")


def test_shares_of_a_run_merge_into_the_serial_document():
    """xdist workers scan disjoint shares; their merge must judge exactly as one serial document."""
    serial = make_doc()
    first, second = copy.deepcopy(serial), copy.deepcopy(serial)
    for row in first["coverage"]:
        if row["operation"] == POST:
            row.update(requests=0, ok=0, statuses={})
    for row in second["coverage"]:
        if row["operation"] == GET:
            row.update(requests=0, ok=0, statuses={})
    second["queries"] = [dict(q, runs=0, rows=0) for q in second["queries"]]
    second["findings"] = []
    first["run"].update(requests=7, shard=[0, 2])
    second["run"].update(requests=6, shard=[1, 2])
    serial["run"]["requests"] = 13
    merged = model.merge([first, second])
    expected = model.from_document(serial).to_document()
    for key in ("coverage", "queries", "findings", "summary"):
        assert merged[key] == expected[key], key
    assert merged["run"]["requests"] == 13 and "shard" not in merged["run"]


def test_phases_relax_the_gate_to_what_they_can_reach():
    """``--phases sweep``: reports never ran, so the query tests are skipped, not failed (README's quick
    reproduction); ``--phases reports``: operations the sweep never sent are skipped, queries still judged."""
    doc = make_doc(findings=False)
    doc["coverage"][2]["ok"] = 5
    doc["queries"][0].update(runs=0, rows=0)
    doc["run"]["gates"] = model.gates_for(("sweep",), selected=True)
    sweep = model.from_document(doc)
    assert [t.outcome for t in sweep.tests if t.function == "test_query"] == ["skipped", "skipped"]
    assert "reports phase was not selected" in sweep.tests[4].message
    assert sweep.ok and sweep.problems == []
    strict = model.from_document({**doc, "run": {**doc["run"], "gates": model.gates_for(("sweep", "reports"), True)}})
    assert not strict.ok and "query revenue_by_month: never ran for any principal" in strict.problems

    doc["coverage"] = [dict(r, requests=0, ok=0, statuses={}) for r in doc["coverage"]]
    doc["queries"][0].update(runs=3, rows=12)
    doc["run"]["gates"] = model.gates_for(("reports",), selected=True)
    reports = model.from_document(doc)
    assert {t.outcome for t in reports.tests if t.function == "test_operation"} == {"skipped"}
    assert reports.ok
