"""JUnit XML: exactly the pytest run's tests, with exactly its verdicts.

One case per test of the scan (``test_operation[op][principal]``, ``test_query[query][principal]``,
``test_scan[summary]``), named as pytest names it, so CI shows which pair broke and the counts equal
pytest's. A failed pair carries one ``<failure>`` per finding (type = its kind), or a
``<failure type="coverage">`` when it was never exercised successfully (a pass would be vacuous); a
pair the scenario declares forbidden for the role, or that the chosen phases do not reach, is
``<skipped>``; the summary fails with the database audit, findings outside the spec, problems, or an
incomplete run.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness import model as m
from harness.report.view import Cell, ReportView, describe, finding_text, seconds, xml_safe

SUITE = "tenant-isolation"


def _pair_case(case: ET.Element, test: m.Test, cell: Cell) -> None:
    if test.outcome == m.FAILED:
        for f in cell.findings:
            failure = ET.SubElement(case, "failure", type=xml_safe(f.get("kind", "finding")),
                                    message=xml_safe(f"{f.get('id', '?')}: {describe(f)}"))
            failure.text = xml_safe(finding_text(f))
        if not cell.findings:
            reason = cell.reason or "never answered with a promised success"
            failure = ET.SubElement(case, "failure", type="coverage", message=xml_safe(f"uncovered: {reason}"))
            failure.text = xml_safe(f"{test.name} was never exercised successfully: {reason}. "
                                    "A pass here would be vacuous.")
    elif test.outcome == m.SKIPPED:
        ET.SubElement(case, "skipped", message=xml_safe(test.message))
    else:
        done = []
        if cell.requests:
            done.append(f"{cell.requests} runs, {cell.ok} rows" if test.function == "test_query"
                        else f"{cell.requests} requests, {cell.ok} kept the spec's promise")
        done += [f"waived {f.get('id')}: {(f.get('waived') or {}).get('reason')}" for f in cell.waived]
        if done:
            ET.SubElement(case, "system-out").text = xml_safe("\n".join(done))


def render_junit(view: ReportView) -> str:
    run = view.run
    suite = ET.Element("testsuite", name=SUITE)
    props = ET.SubElement(suite, "properties")
    for key in ("seed", "profile", "target", "scenario", "harness_version", "started", "incomplete"):
        if run.get(key) not in (None, ""):
            ET.SubElement(props, "property", name=key, value=xml_safe(run[key]))
    for test in view.tests:
        case = ET.SubElement(suite, "testcase", classname=xml_safe(view.scenario), name=xml_safe(test.name))
        if test.function == "test_scan":
            if test.outcome == m.FAILED:
                first = test.message.splitlines()[0] if test.message else "the scan failed"
                ET.SubElement(case, "failure", type="scan", message=xml_safe(first)).text = xml_safe(test.message)
            continue
        if test.id == "no-queries":
            ET.SubElement(case, "skipped", message=xml_safe(test.message))
            continue
        name, principal = test.id.rsplit("][", 1)
        cells = view.cells if test.function == "test_operation" else view.query_cells
        _pair_case(case, test, cells[(name, principal)])
    counts = view.model.test_counts()
    suite.set("tests", str(counts["total"]))
    suite.set("failures", str(counts[m.FAILED]))
    suite.set("errors", "0")
    suite.set("skipped", str(counts[m.SKIPPED]))
    suite.set("time", f"{seconds(run.get('duration_s')):.3f}")
    if run.get("started"):
        suite.set("timestamp", xml_safe(run["started"]))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
