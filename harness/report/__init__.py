"""CI reports from the run model (``findings.json`` is its serialisation; the rest are views of it).

``write_reports(source, outdir)`` writes ``findings.json``, ``junit.xml``, ``findings.sarif``,
``index.html`` and ``summary.md`` (and ``queries.md``, the SQL inventory, when the run has one) for a
:class:`~harness.model.RunModel` or a findings document (judged by the model first);
``render_terminal(source)`` is the pytest terminal summary. Output depends on the model only (no clock,
no host name), so the same run renders to the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from harness.report.html_page import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.queries_md import render_queries_md
from harness.report.repro import render_repro
from harness.report.sarif import render_sarif
from harness.report.terminal import render_terminal_view
from harness.report.view import ReportView, build_view

__all__ = ["FILES", "ReportView", "build_view", "render_terminal", "write_reports"]

FILES = ("findings.json", "junit.xml", "findings.sarif", "index.html", "summary.md")
#: The query inventory, written with the others when the document has one (``run.sql``).
INVENTORY = "queries.md"


def _json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _write(path: Path, text: str) -> Path:
    """Write whole or not at all: a CI step reading a half-written report would misreport. The temporary
    file is unique, so two writers never interleave; it is removed if the write fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_reports(source, outdir: Path) -> list[Path]:
    """Write every report for ``source`` (a run model or a findings document) into ``outdir`` (created
    if needed); returns the paths written. Everything is rendered before the first file is written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    view = build_view(source)
    rendered = {
        "findings.json": _json(view.model.to_document()),
        "junit.xml": render_junit(view),
        "findings.sarif": _json(render_sarif(view)),
        "index.html": render_html(view),
        "summary.md": render_markdown(view),
    }
    inventory = render_queries_md(view)  # runs with a SQL inventory (harness.rootcause) only
    written = [_write(outdir / name, rendered[name]) for name in FILES]
    if inventory is not None:
        written.append(_write(outdir / INVENTORY, inventory))
    elif (outdir / INVENTORY).is_file():
        (outdir / INVENTORY).unlink()  # another run's inventory: not this one's
    return written + _write_repro(outdir / "repro", render_repro(view))


def _write_repro(folder: Path, tests: dict[str, str]) -> list[Path]:
    """One regression test per finding in ``folder``; tests of findings this run no longer has go."""
    if folder.is_dir():
        for old in folder.glob("test_TH_*.py"):
            if old.name not in tests:
                old.unlink()
    if not tests:
        return []
    folder.mkdir(exist_ok=True)
    return [_write(folder / name, text) for name, text in sorted(tests.items())]


def render_terminal(source) -> str:
    """The compact summary for the pytest terminal: findings table, coverage, query and test lines."""
    return render_terminal_view(build_view(source))
