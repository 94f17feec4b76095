"""``index.html``: one self-contained page a reviewer can read in a minute.

Headline first (findings, coverage), then the operation × principal matrix where every cell says what
happened (green covered, grey forbidden, red finding count, amber uncovered, each with a symbol too),
then every finding with what is needed to act on it. No scripts, no external assets: it must open
from a CI artifact as it is. Everything from the document goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape as _escape

from harness.report.queries_md import render_inventory_html, root_cause_text
from harness.report.view import (COVERED, EMPTY, FINDING, FORBIDDEN, UNCOVERED, UNREACHED, WAIVED, Cell, ReportView,
                                 describe, format_request, seconds, waiver_note, where, xml_safe)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#1f2328;max-width:100%}
h1{font-size:1.6rem;margin:.2rem 0}.bad{color:#b42318}.good{color:#1a7f37}
.meta{color:#57606a}.meta span{margin-right:1.2rem}
tr.failing th.op{background:#ffebe9;font-weight:600}.jump a{margin-right:.4rem}
table.matrix{border-collapse:collapse;margin:.8rem 0}
.matrix th,.matrix td{border:1px solid #d0d7de;padding:2px 6px;text-align:center}
.matrix th.op{text-align:left;font-family:ui-monospace,monospace;font-weight:normal;white-space:nowrap}
.matrix thead th{vertical-align:bottom;font-weight:normal}
.matrix thead th div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
td.covered{background:#dafbe1;color:#1a7f37}td.forbidden{background:#eaeef2;color:#6e7781}
td.finding{background:#ffd8d3;color:#b42318;font-weight:bold}td.uncovered{background:#fff1c2;color:#9a6700}
td.waived{background:#fbefff;color:#8250df}td.unreached,td.empty{background:#f6f8fa;color:#6e7781}
td a{color:inherit}.incomplete{background:#fff1c2;padding:.4rem .8rem;border:1px solid #d4a72c}.legend span{padding:1px 8px;margin-right:6px;border:1px solid #d0d7de}
section.finding{border-left:4px solid #b42318;padding:.3rem 1rem;margin:1.2rem 0;background:#fffafa}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dt{color:#57606a}dd{margin:0}
"""

_SYMBOL = {COVERED: "✓", FORBIDDEN: "–", UNCOVERED: "?", EMPTY: "∅", UNREACHED: "·", WAIVED: "w"}


def escape(text, quote: bool = True) -> str:
    """HTML-escaped, with control characters (NUL...) from response bodies shown as escapes."""
    return _escape(xml_safe(text), quote=quote)


def _cell(cell: Cell, unit: str) -> str:
    verdict = cell.verdict
    if verdict == FINDING:
        ids = ", ".join(str(f.get("id", "?")) for f in cell.findings)
        first = escape(str(cell.findings[0].get("id", "")), quote=True)
        return (f'<td class="finding" title="{escape(ids, quote=True)}">'
                f'<a href="#{first}">{len(cell.findings)}</a></td>')
    if verdict == COVERED:
        if not cell.requests:
            title = "covered"
        elif unit == "query":
            title = f"covered: {cell.requests} runs, {cell.ok} rows"
        else:
            title = f"covered: {cell.ok}/{cell.requests} requests ok"
    elif verdict == FORBIDDEN:
        title = f"forbidden: {cell.reason}" if cell.reason else "forbidden for this role"
    elif verdict == EMPTY:
        title = f"ran, no rows: {cell.reason}" if cell.reason else "ran, no rows"
    elif verdict == WAIVED:
        title = "waived: " + ", ".join(f"{f.get('id')} ({(f.get('waived') or {}).get('reason')})" for f in cell.waived)
        first = escape(str(cell.waived[0].get("id", "")), quote=True)
        return (f'<td class="waived" title="{escape(title, quote=True)}">'
                f'<a href="#{first}">{_SYMBOL[WAIVED]}</a></td>')
    elif verdict == UNREACHED:
        title = f"not reached: {cell.reason}" if cell.reason else "not reached by the selected phases"
    else:
        title = f"uncovered: {cell.reason}" if cell.reason else "uncovered"
        return (f'<td class="{verdict}" title="{escape(title, quote=True)}">'
                f'<a href="#uncovered">{_SYMBOL.get(verdict, "?")}</a></td>')
    return f'<td class="{verdict}" title="{escape(title, quote=True)}">{_SYMBOL.get(verdict, "?")}</td>'


def _failing(cell: Cell) -> bool:
    return cell.verdict in (FINDING, UNCOVERED)


def _matrix(rows: list[str], columns: list[str], cells: dict, corner: str) -> str:
    """The matrix; rows with a failing cell (a finding, a gap) are marked and listed above it, so a
    reviewer goes from the list to the row, and from the cell to its finding."""
    head = "".join(f"<th><div>{escape(c)}</div></th>" for c in columns)
    lines, failing = [], []
    for i, r in enumerate(rows):
        bad = any(_failing(cells[(r, c)]) for c in columns)
        anchor = f"{corner}-row-{i}"
        if bad:
            failing.append(f'<a href="#{anchor}">{escape(r)}</a>')
        marked = ' class="failing"' if bad else ""
        lines.append(f'<tr id="{anchor}"{marked}><th class="op">{escape(r)}</th>'
                     + "".join(_cell(cells[(r, c)], corner) for c in columns) + "</tr>")
    jump = (f'<p class="jump">Failing {escape(corner)}s ({len(failing)}): ' + " · ".join(failing) + "</p>"
            if failing else "")
    return (jump + f'<table class="matrix"><thead><tr><th class="op">{escape(corner)}</th>{head}</tr></thead>'
            f"<tbody>\n" + "\n".join(lines) + "\n</tbody></table>")


def _finding(f: dict) -> str:
    fid = str(f.get("id", "?"))
    facts = [("query" if f.get("subject") == "query" else "operation", where(f)),
             ("endpoint", f.get("operation") if f.get("subject") == "query" else None),
             ("principal", f.get("principal")),
             ("victim tenant", f.get("victim_tenant")), ("kind", f.get("kind")), ("oracle", f.get("oracle")),
             ("phase", f.get("phase")), ("status", f.get("status")), ("seed", f.get("seed"))]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts if v not in (None, ""))
    blocks = "".join(
        f"<h4>{escape(label)}</h4><pre>{escape(str(body))}</pre>"
        for label, body in (("Evidence", f.get("evidence")),
                            ("Root cause in SQL", root_cause_text(f.get("root_cause"))),
                            ("Request", format_request(f.get("request"))),
                            ("curl", f.get("curl")), ("Reproduce", f.get("reproduce")))
        if body not in (None, ""))
    note = waiver_note(f)
    note_html = f'<p class="meta"><strong>{escape(note)}</strong></p>' if note else ""
    return (f'<section class="finding" id="{escape(fid, quote=True)}">'
            f"<h3>{escape(fid)} · {escape(str(f.get('title') or f.get('kind', '')))}</h3>"
            f"<p>{escape(describe(f))}.</p>{note_html}<dl>{dl}</dl>{blocks}</section>")


def render_html(view: ReportView) -> str:
    run = view.run
    n = len(view.findings)
    verdict = "bad" if n or not view.ok else "good"
    meta = "".join(f"<span>{escape(label)}: {escape(str(run[key]))}</span>"
                   for label, key in (("scenario", "scenario"), ("target", "target"), ("seed", "seed"),
                                      ("profile", "profile"), ("started", "started"),
                                      ("harness", "harness_version")) if run.get(key) not in (None, ""))
    if run.get("duration_s") is not None:
        meta += f"<span>duration: {seconds(run['duration_s']):.1f} s</span>"
    counts = view.pair_counts()
    lines = [view.coverage_line] + ([view.queries_line] if view.queries_line else []) + [view.tests_line]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Tenant isolation: {escape(view.headline)}</title><style>{CSS}</style></head><body>",
        f'<h1 class="{verdict}">{escape(view.headline)}</h1>',
        f'<p class="incomplete"><strong>Incomplete: {escape(view.incomplete)}</strong>. The reports hold what '
        f"the scan established before it stopped.</p>" if view.incomplete else "",
        f'<p class="bad"><strong>{escape(view.verdict_note)}</strong></p>' if view.verdict_note else "",
        "<p><strong>" + " · ".join(escape(line) for line in lines) + "</strong> "
        f'<span class="meta">({counts[COVERED]} pairs covered, {counts[FORBIDDEN]} forbidden, '
        f"{counts[UNCOVERED]} uncovered)</span></p>",
        f'<p class="meta">{meta}</p>',
    ]
    if view.problems:
        parts.append("<h2 class=\"bad\">Problems</h2><ul>"
                     + "".join(f"<li>{escape(p)}</li>" for p in view.problems) + "</ul>")
    parts.append('<p class="legend"><span class="covered">✓</span>covered '
                 '<span class="forbidden">–</span>forbidden for the role '
                 '<span class="finding">n</span>findings <span class="uncovered">?</span>uncovered '
                 '<span class="waived">w</span>waived <span class="unreached">·</span>not reached by the '
                 'selected phases <span class="empty">∅</span>ran, no rows</p>')
    parts.append("<h2>Operations × principals</h2>")
    parts.append(_matrix(view.operations, view.principals, view.cells, "operation"))
    if view.queries:
        parts.append("<h2>Reporting queries × principals</h2>")
        parts.append(_matrix(view.queries, view.query_principals, view.query_cells, "query"))
    uncovered = view.uncovered()
    if uncovered:
        parts.append(f'<h2 id="uncovered">Uncovered ({len(uncovered)})</h2><ul>' + "".join(
            f"<li><code>{escape(what)}</code> × {escape(who)}: {escape(cell.reason or 'never answered 2xx')}</li>"
            for what, who, cell in uncovered) + "</ul>")
    unattached = view.unattached()
    if unattached:
        parts.append(f"<h2 class=\"bad\">Database and run ({len(unattached)})</h2><ul>" + "".join(
            f'<li><a href="#{escape(str(f.get("id")), quote=True)}">{escape(str(f.get("id")))}</a> '
            f"{escape(where(f))}: {escape(str(f.get('evidence', '')))}</li>" for f in unattached) + "</ul>")
    parts.append(f"<h2>Findings ({n})</h2>")
    parts.extend(_finding(f) for f in view.findings)
    if not n:
        parts.append("<p>None.</p>")
    if view.waived:
        parts.append(f"<h2>Waived ({len(view.waived)})</h2>")
        parts.extend(_finding(f) for f in view.waived)
    if view.notes:
        parts.append(f"<h2>Notes, not failing this run ({len(view.notes)})</h2>")
        parts.extend(_finding(f) for f in view.notes)
    if view.model.waivers:
        parts.append("<h2>Waivers</h2><ul>" + "".join(
            f"<li><code>{escape(w.get('id') or (str(w.get('kind')) + ' on ' + str(w.get('operation'))))}</code>: "
            f"{escape(w.get('status', ''))}, {escape(w.get('reason', ''))}"
            + (f" (expires {escape(w['expires'])})" if w.get("expires") else "") + "</li>"
            for w in view.model.waivers) + "</ul>")
    parts.append(render_inventory_html(view))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
