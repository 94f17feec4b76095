"""JUnit XML: one test case per operation × principal, so CI shows exactly which pair broke.

A finding is a ``<failure>`` on its pair (one per finding, type = its kind); an uncovered pair is a
``<failure type="coverage">`` because a pass that never exercised the pair would be vacuous; a pair
the scenario declares forbidden for that role is ``<skipped>``. Reporting queries get one case per
query × principal in the same suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.view import (COVERED, EMPTY, FORBIDDEN, UNCOVERED, Cell, ReportView, describe, finding_text,
                                 seconds, xml_safe)

SUITE = "tenant-isolation"


def _case(suite: ET.Element, classname: str, name: str, cell: Cell, what: str) -> dict[str, int]:
    case = ET.SubElement(suite, "testcase", classname=xml_safe(classname), name=xml_safe(name))
    failures = skipped = 0
    for f in cell.findings:
        failure = ET.SubElement(case, "failure", type=xml_safe(f.get("kind", "finding")),
                                message=xml_safe(f"{f.get('id', '?')}: {describe(f)}"))
        failure.text = xml_safe(finding_text(f))
        failures += 1
    if cell.status == UNCOVERED:
        reason = cell.reason or "never answered 2xx"
        failure = ET.SubElement(case, "failure", type="coverage",
                                message=xml_safe(f"uncovered: {reason}"))
        failure.text = xml_safe(f"{name} was never exercised successfully: {reason}. "
                                "A pass here would be vacuous.")
        failures += 1
    elif cell.status == FORBIDDEN and not cell.findings:
        ET.SubElement(case, "skipped", message=xml_safe(cell.reason or f"{what} is forbidden for this role"))
        skipped += 1
    elif cell.status == EMPTY:
        ET.SubElement(case, "system-out").text = xml_safe(f"{cell.requests} runs, no rows")
    elif cell.status == COVERED and cell.requests:
        done = (f"{cell.requests} runs, {cell.ok} rows" if what == "query"
                else f"{cell.requests} requests, {cell.ok} ok")
        ET.SubElement(case, "system-out").text = xml_safe(done)
    return {"failures": 1 if failures else 0, "skipped": skipped}  # counts cases, as JUnit does


def render_junit(view: ReportView) -> str:
    run = view.run
    suite = ET.Element("testsuite", name=SUITE)
    props = ET.SubElement(suite, "properties")
    for key in ("seed", "profile", "target", "scenario", "harness_version", "started"):
        if run.get(key) not in (None, ""):
            ET.SubElement(props, "property", name=key, value=xml_safe(run[key]))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for op in view.operations:
        for p in view.principals:
            counts = _case(suite, view.scenario, f"[{op}][{p}]", view.cells[(op, p)], "operation")
            totals["tests"] += 1
            for k, v in counts.items():
                totals[k] += v
    for q in view.queries:
        for p in view.query_principals:
            counts = _case(suite, view.scenario, f"[query {q}][{p}]", view.query_cells[(q, p)], "query")
            totals["tests"] += 1
            for k, v in counts.items():
                totals[k] += v
    if view.problems:
        case = ET.SubElement(suite, "testcase", classname=xml_safe(view.scenario), name="[run][problems]")
        for problem in view.problems:
            ET.SubElement(case, "error", type="harness", message=xml_safe(problem)).text = xml_safe(problem)
        totals["tests"] += 1
    suite.set("tests", str(totals["tests"]))
    suite.set("failures", str(totals["failures"]))
    suite.set("errors", "1" if view.problems else "0")
    suite.set("skipped", str(totals["skipped"]))
    suite.set("time", f"{seconds(run.get('duration_s')):.3f}")
    if run.get("started"):
        suite.set("timestamp", xml_safe(run["started"]))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
