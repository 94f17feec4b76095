"""The query inventory (``queries.md``, a section of ``index.html``) and a finding's root cause in SQL.

Both render ``run.sql`` and a finding's ``root_cause`` from the findings document
(:mod:`harness.rootcause` writes them), so they say what ``findings.json`` says. The inventory is for the
reviewer who asks "what SQL does this app run, and what keeps each statement in its tenant?": every
distinct statement by endpoint and report, marked protected by its own predicate, by RLS only, or
unprotected, with counts per table.
"""

from __future__ import annotations

from html import escape

from harness.report.view import ReportView, xml_safe

#: How each verdict reads in a report.
VERDICT = {"predicate": "predicate", "rls-only": "RLS only", "unprotected": "UNPROTECTED", "none": "no tenant table",
           "unparsed": "not parsed", "error": "not analysed"}


def root_cause_text(causes) -> str:
    """A finding's root cause as plain text (HTML ``<pre>``, SARIF messages): one paragraph per statement."""
    out = []
    for c in causes or []:
        if not isinstance(c, dict):
            continue
        where = "this request" if c.get("from") == "request" else "its operation or query during the scan"
        rows = f", {c['rows']} row(s)" if c.get("rows") is not None else ""
        verdict = VERDICT.get(c.get("verdict"), c.get("verdict"))
        out.append(f"{c.get('role')} {c.get('mode', 'read')}s {c.get('table')}: {verdict}"
                   f" ({c.get('why')}) [{c.get('sql_id')}, from {where}{rows}]\n  {c.get('statement')}")
    return "\n".join(out)


def _cell(text) -> str:
    return " ".join(xml_safe(text).split()).replace("|", "\\|")


def _code(text) -> str:
    text = _cell(text)
    return f"`` {text} ``" if "`" not in text else text


def _subjects(sql: dict) -> tuple[dict, list[dict]]:
    statements = {s.get("id"): s for s in sql.get("statements") or [] if isinstance(s, dict)}
    subjects = [s for s in sql.get("subjects") or [] if isinstance(s, dict)]
    return statements, subjects


def _tables(s: dict) -> str:
    return ", ".join(f"{t.get('table')} ({VERDICT.get(t.get('verdict'), t.get('verdict'))}"
                     + (f": {t.get('rule')}" if t.get("rule") else "") + ")" for t in s.get("tables") or [])


def _via(subject: dict) -> str:
    via = [v for v in subject.get("via") or [] if v != subject.get("subject")]
    if not via:
        return ""
    return " (" + " and ".join("in the database" if v == "database" else f"through {v}" for v in via) + ")"


def summary_line(sql: dict) -> str:
    counts = sql.get("counts") or {}
    n = counts.get("statements", 0)
    parts = [f"{counts.get(v, 0)} {VERDICT[v]}" for v in ("predicate", "rls-only", "unprotected")]
    parts.append(f"{counts.get('none', 0)} on no tenant table")
    odd = counts.get("unparsed", 0) + counts.get("error", 0)
    if odd:
        parts.append(f"{odd} not analysed")
    latent = sql.get("latent") or []
    return (f"{n} distinct statement{'' if n == 1 else 's'}: " + ", ".join(parts)
            + f"; {len(latent)} latent warning{'' if len(latent) == 1 else 's'}")


def render_queries_md(view: ReportView) -> str | None:
    """``queries.md`` for a run with an inventory (None for a document without ``run.sql``)."""
    sql = view.run.get("sql")
    if not isinstance(sql, dict):
        return None
    out = ["# SQL inventory", ""]
    if not sql.get("available"):
        return "\n".join(out + [f"No statement was captured: {_cell(sql.get('reason') or 'unknown reason')}.", ""])
    out += [f"Every distinct statement the app ran on the run's database, by endpoint and report (capture: "
            f"`{_cell(sql.get('method'))}`), and what keeps it in its tenant: **predicate** (its own tenant "
            f"predicate), **RLS only** (row-level security binds the role that ran it), **UNPROTECTED** "
            f"(neither: on a BYPASSRLS role, a cross-tenant read or write).", "",
            f"**{summary_line(sql)}.**", ""]
    if sql.get("reason"):
        out += [f"Note: {_cell(sql['reason'])}.", ""]
    if sql.get("missed_sessions"):
        out += [f"Note: {sql['missed_sessions']} session(s) were open before the capture started; their "
                f"statements are not listed.", ""]
    if view.run.get("shares"):
        out += [f"Merged from {sql.get('merged') or len(view.run['shares'])} shares.", ""]
    latent = {f.get("id"): f for f in view.model.findings if f.get("kind") == "latent"}
    if latent:
        out += ["## Latent: unprotected statements no finding explains", "",
                "Each is a warning (it fails the `release` profile only).", ""]
        out += [f"- **{_cell(fid)}** on `{_cell(f.get('operation'))}`: {_cell(f.get('evidence'))}"
                for fid, f in latent.items()]
        out.append("")
    tables = sql.get("tables") or {}
    if tables:
        out += ["## Tables", "", "Distinct statements touching each tenant table, by verdict.", "",
                "| table | predicate | RLS only | unprotected |", "|---|---:|---:|---:|"]
        out += [f"| {_cell(t)} | {c.get('predicate', 0)} | {c.get('rls-only', 0)} | {c.get('unprotected', 0)} |"
                for t, c in tables.items()]
        out.append("")
    statements, subjects = _subjects(sql)
    out += ["## By endpoint and report", ""]
    for subject in subjects:
        n = subject.get("requests", 0)
        out += [f"### `{_cell(subject.get('subject'))}`{_cell(_via(subject))}: {n} run{'' if n == 1 else 's'}", ""]
        rows = [statements[k] for k in subject.get("statements") or [] if k in statements]
        on_tables = [s for s in rows if s.get("tables")]
        if on_tables:
            out += ["| statement | verdict | role | tables | SQL |", "|---|---|---|---|---|"]
            out += [f"| {_cell(s.get('id'))} | {VERDICT.get(s.get('verdict'), _cell(s.get('verdict')))} | "
                    f"{_cell(s.get('role'))} | {_cell(_tables(s))} | {_code(s.get('text'))} |" for s in on_tables]
        other = [s for s in rows if not s.get("tables")]
        if other:
            out += ["", "On no tenant table: " + ", ".join(
                f"{_cell(s.get('id'))} {_code(s.get('text'))} ({_cell(s.get('role'))})" for s in other)]
        out.append("")
    return "\n".join(out)


def render_inventory_html(view: ReportView) -> str:
    """The inventory section of ``index.html`` (empty for a document without ``run.sql``)."""
    sql = view.run.get("sql")
    if not isinstance(sql, dict):
        return ""

    def e(text) -> str:
        return escape(xml_safe(text), quote=True)

    parts = ['<h2 id="sql">SQL inventory</h2>']
    if not sql.get("available"):
        return parts[0] + f"<p>No statement was captured: {e(sql.get('reason') or 'unknown reason')}.</p>"
    parts.append(f"<p><strong>{e(summary_line(sql))}</strong> "
                 f'<span class="meta">(capture: {e(sql.get("method"))}; also in queries.md)</span></p>')
    tables = sql.get("tables") or {}
    if tables:
        parts.append('<table class="matrix"><thead><tr><th class="op">table</th><th>predicate</th><th>RLS only</th>'
                     "<th>unprotected</th></tr></thead><tbody>" + "".join(
                         f'<tr><th class="op">{e(t)}</th><td>{c.get("predicate", 0)}</td>'
                         f'<td>{c.get("rls-only", 0)}</td>'
                         f'<td{" class=finding" if c.get("unprotected") else ""}>{c.get("unprotected", 0)}</td></tr>'
                         for t, c in tables.items()) + "</tbody></table>")
    statements, subjects = _subjects(sql)
    for subject in subjects:
        rows = [statements[k] for k in subject.get("statements") or [] if k in statements]
        bad = sum(1 for s in rows if s.get("verdict") == "unprotected")
        flag = f' <strong class="bad">{bad} unprotected</strong>' if bad else ""
        items = "".join(f"<li><code>{e(s.get('id'))}</code> {e(VERDICT.get(s.get('verdict'), s.get('verdict')))}, "
                        f"{e(s.get('role'))}" + (f", {e(_tables(s))}" if s.get("tables") else "")
                        + f"<pre>{e(s.get('text'))}</pre></li>" for s in rows)
        parts.append(f"<details><summary><code>{e(subject.get('subject'))}</code>{e(_via(subject))}: "
                     f"{len(rows)} statement(s), {subject.get('requests', 0)} run(s){flag}</summary><ul>{items}</ul>"
                     "</details>")
    return "\n".join(parts)
