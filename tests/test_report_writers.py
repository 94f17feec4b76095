"""The CI reports: each file says the same thing, in the form its reader (CI, dashboard, human) needs."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

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
            {"operation": GET, "principal": ADMIN, "requests": 4, "ok": 3, "statuses": {"200": 3, "404": 1},
             "status": "covered", "reason": None},
            {"operation": GET, "principal": USER, "requests": 2, "ok": 2, "statuses": {"200": 2},
             "status": "covered", "reason": None},
            {"operation": POST, "principal": ADMIN, "requests": 5, "ok": 0, "statuses": {"422": 5},
             "status": "uncovered", "reason": "every request answered 422"},
            {"operation": POST, "principal": USER, "requests": 1, "ok": 0, "statuses": {"403": 1},
             "status": "forbidden", "reason": "users may not create projects"},
        ],
        "queries": [{"query": "revenue_by_month", "principal": ADMIN, "runs": 3, "rows": 12,
                     "status": "covered"}],
        "findings": [finding] if findings else [],
        "summary": {"findings": 1 if findings else 0, "covered": 2, "uncovered": 1, "forbidden": 1,
                    "ok": False, "problems": []},
    }


@pytest.fixture
def reports(tmp_path) -> dict[str, Path]:
    return {p.name: p for p in write_reports(make_doc(), tmp_path / "reports")}


def test_writes_every_report_and_findings_json_is_the_document(reports, tmp_path):
    assert list(reports) == list(FILES)
    assert all(p.parent == tmp_path / "reports" and p.stat().st_size > 0 for p in reports.values())
    text = reports["findings.json"].read_text()
    assert json.loads(text) == make_doc()
    assert text == json.dumps(make_doc(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_no_report_repeats_a_credential_from_the_request(reports):
    for name in FILES[1:]:
        assert "eyJ-not-for-reports" not in reports[name].read_text(), name


def _cases(path: Path) -> tuple[ET.Element, dict[str, ET.Element]]:
    suite = ET.parse(path).getroot()
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def test_junit_has_a_case_per_pair_with_failures_and_skips(reports):
    suite, cases = _cases(reports["junit.xml"])
    assert suite.tag == "testsuite"
    assert sorted(cases) == sorted([f"[{GET}][{ADMIN}]", f"[{GET}][{USER}]", f"[{POST}][{ADMIN}]",
                                    f"[{POST}][{USER}]", f"[query revenue_by_month][{ADMIN}]"])
    assert {c.get("classname") for c in cases.values()} == {"phoenix"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "1")

    [failure] = cases[f"[{GET}][{ADMIN}]"].findall("failure")
    assert failure.get("type") == "foreign-row" and "globex-east" in failure.get("message")
    assert "<script>alert(1)</script> Globex & Co" in failure.text  # the NUL did not break the XML
    assert "curl -H 'Authorization: Bearer ***'" in failure.text
    assert "tenant-harness reproduce TH-3f9a1c2b" in failure.text

    [coverage] = cases[f"[{POST}][{ADMIN}]"].findall("failure")
    assert coverage.get("type") == "coverage" and "every request answered 422" in coverage.get("message")
    assert cases[f"[{POST}][{USER}]"].find("skipped").get("message") == "users may not create projects"
    for passed in (f"[{GET}][{USER}]", f"[query revenue_by_month][{ADMIN}]"):
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
    assert f"- `{POST}` × {ADMIN}: every request answered 422" in md


def test_terminal_summary_is_a_table_and_the_coverage_lines():
    text = render_terminal(make_doc())
    lines = text.splitlines()
    assert lines[0] == "tenant isolation: 1 finding"
    assert lines[1].split() == ["ID", "KIND", "OPERATION", "PRINCIPAL", "VICTIM", "PHASE"]
    assert lines[2].split() == ["TH-3f9a1c2b", "foreign-row", "GET", "/api/dashboard/projects", ADMIN,
                                "globex-east", "sweep"]
    assert lines[1].index("PRINCIPAL") == lines[2].index(ADMIN)  # aligned columns
    assert "coverage: 1/2 operations × 2 principals" in lines and "queries: 1/1" in lines
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
    assert cases[f"[{GET}][{USER}]"].find("failure").get("type") == "coverage"
    assert "coverage: 0/2 operations × 2 principals" in render_terminal(doc)


@pytest.mark.parametrize("findings", [True, False], ids=["finding", "clean"])
def test_sarif_stays_valid_with_a_scenario_file_problems_and_unknown_kinds(findings, tmp_path):
    validator = sarif_validator()
    doc = make_doc(findings)
    doc["run"]["scenario"] = "scenarios/phoenix.py"
    doc["summary"]["problems"] = ["login failed for globex-east:user"]
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
    doc["coverage"][2].update(status="covered", ok=5, reason=None)
    doc["summary"].update(ok=True, uncovered=0)
    by_name = {p.name: p for p in write_reports(doc, tmp_path)}
    assert by_name["summary.md"].read_text().startswith("## ✅ Tenant isolation: 0 findings\n")
    page = by_name["index.html"].read_text()
    assert '<h1 class="good">0 findings</h1>' in page and "not a pass" not in page
    assert "coverage: 2/2 operations × 2 principals" in render_terminal(doc)
