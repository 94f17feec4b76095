"""``summary.md`` for a CI step summary (``$GITHUB_STEP_SUMMARY``): the verdict at a glance.

Long lists are capped: a step summary has a size limit, and the HTML report holds the rest.
"""

from __future__ import annotations

from html import escape

from harness.report.view import ReportView, seconds, where

MAX_ROWS = 100


def _plain(value) -> str:
    """A table cell: no line breaks, no pipes, no raw HTML."""
    return escape(" ".join(str(value if value is not None else "").split()), quote=False).replace("|", "\\|")


def _code(value) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if not text or "`" in text:
        return _plain(text)
    return "`" + text.replace("|", "\\|") + "`"


def render_markdown(view: ReportView) -> str:
    run = view.run
    n = len(view.findings)
    mark = "❌" if n or not view.ok else "✅"
    out = [f"## {mark} Tenant isolation: {view.headline}", ""]
    status = [f"**{view.coverage_line}**"] + ([view.queries_line] if view.queries_line else []) + [view.tests_line]
    for label, key in (("seed", "seed"), ("profile", "profile")):
        if run.get(key) not in (None, ""):
            status.append(f"{label} {_plain(run[key])}")
    if run.get("duration_s") is not None:
        status.append(f"{seconds(run['duration_s']):.1f} s")
    out += [" · ".join(status), ""]
    if view.incomplete:
        out += [f"**Incomplete: {_plain(view.incomplete)}.** The reports hold what the scan established before "
                "it stopped.", ""]
    if view.verdict_note and not n:
        out += [f"**{_plain(view.verdict_note)}**", ""]
    if n:
        out += ["| id | kind | operation | principal | victim | phase |", "| --- | --- | --- | --- | --- | --- |"]
        out += [f"| {_code(f.get('id'))} | {_plain(f.get('kind'))} | {_code(where(f))} | "
                f"{_plain(f.get('principal'))} | {_plain(f.get('victim_tenant'))} | {_plain(f.get('phase'))} |"
                for f in view.findings[:MAX_ROWS]]
        if n > MAX_ROWS:
            out.append(f"\n… and {n - MAX_ROWS} more in `index.html`.")
        first = view.findings[0]
        if first.get("reproduce"):
            out += ["", f"Reproduce the first one: {_code(first['reproduce'])}"]
        out.append("")
    if view.waived:
        out.append(f"**Waived ({len(view.waived)})**")
        out += [f"- {_code(f.get('id'))} {_plain(f.get('kind'))} on {_code(where(f))}: "
                f"{_plain((f.get('waived') or {}).get('reason'))}" for f in view.waived[:MAX_ROWS]]
        out.append("")
    if view.notes:
        out.append(f"**Notes, not failing this run ({len(view.notes)})**")
        out += [f"- {_code(f.get('id'))} {_plain(f.get('kind'))} ({_plain(f.get('severity'))}) on {_code(where(f))}: "
                f"{_plain(f.get('evidence'))}" for f in view.notes[:MAX_ROWS]]
        out.append("")
    uncovered = view.uncovered()
    if uncovered:
        out.append(f"**Uncovered ({len(uncovered)})**")
        out += [f"- {_code(what)} × {_plain(who)}: {_plain(cell.reason or 'never answered 2xx')}"
                for what, who, cell in uncovered[:MAX_ROWS]]
        if len(uncovered) > MAX_ROWS:
            out.append(f"- … and {len(uncovered) - MAX_ROWS} more")
        out.append("")
    if view.problems:
        out.append("**Problems**")
        out += [f"- {_plain(p)}" for p in view.problems]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
