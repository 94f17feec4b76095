"""CI reports from the findings document (``findings.json`` is the source of truth; the rest are views).

``write_reports(doc, outdir)`` writes ``findings.json``, ``junit.xml``, ``findings.sarif``,
``index.html`` and ``summary.md``; ``render_terminal(doc)`` is the pytest terminal summary. Output
depends on the document only (no clock, no host name), so the same run renders to the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.report.html_page import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.sarif import render_sarif
from harness.report.terminal import render_terminal_view
from harness.report.view import ReportView, build_view

__all__ = ["FILES", "ReportView", "build_view", "render_terminal", "write_reports"]

FILES = ("findings.json", "junit.xml", "findings.sarif", "index.html", "summary.md")


def _json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _write(path: Path, text: str) -> Path:
    """Write whole or not at all: a CI step reading a half-written report would misreport."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_reports(doc: dict, outdir: Path) -> list[Path]:
    """Write every report for ``doc`` into ``outdir`` (created if needed); returns the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    view = build_view(doc)
    rendered = {
        "findings.json": _json(doc or {}),
        "junit.xml": render_junit(view),
        "findings.sarif": _json(render_sarif(view)),
        "index.html": render_html(view),
        "summary.md": render_markdown(view),
    }
    return [_write(outdir / name, rendered[name]) for name in FILES]


def render_terminal(doc: dict) -> str:
    """The compact summary for the pytest terminal: findings table, coverage and query lines."""
    return render_terminal_view(build_view(doc))
