"""The pytest terminal summary: the findings as an aligned table, then the coverage lines."""

from __future__ import annotations

from harness.report.view import ReportView, where

MAX_ROWS = 50
MAX_UNCOVERED = 10
COLUMNS = (("ID", "id"), ("KIND", "kind"), ("OPERATION", "operation"), ("PRINCIPAL", "principal"),
           ("VICTIM", "victim_tenant"), ("PHASE", "phase"))


def _one_line(value) -> str:
    return " ".join(str(value if value is not None else "").split())


def render_terminal_view(view: ReportView) -> str:
    lines = [f"tenant isolation: {view.headline}"]
    if view.findings:
        rows = [[h for h, _ in COLUMNS]] + [[_one_line(where(f) if k == "operation" else f.get(k)) for _, k in COLUMNS]
                                            for f in view.findings[:MAX_ROWS]]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        if len(view.findings) > MAX_ROWS:
            lines.append(f"  … and {len(view.findings) - MAX_ROWS} more (see index.html)")
    if view.incomplete:
        lines.append(f"INCOMPLETE: {_one_line(view.incomplete)}")
    lines.append(view.coverage_line)
    if view.queries_line:
        lines.append(view.queries_line)
    lines.append(view.tests_line)
    lines += [f"waived: {f.get('id')} {f.get('kind')} on {where(f)}: {_one_line((f.get('waived') or {}).get('reason'))}"
              for f in view.waived[:MAX_UNCOVERED]]
    lines += [f"note: {f.get('id')} {f.get('kind')} on {where(f)} as {f.get('principal')}: {_one_line(f.get('evidence'))}"
              for f in view.notes[:MAX_UNCOVERED]]
    uncovered = view.uncovered()
    if uncovered:
        lines.append(f"uncovered: {len(uncovered)}")
        lines += [f"  {what} × {who}: {_one_line(cell.reason or 'never answered 2xx')}"
                  for what, who, cell in uncovered[:MAX_UNCOVERED]]
        if len(uncovered) > MAX_UNCOVERED:
            lines.append(f"  … and {len(uncovered) - MAX_UNCOVERED} more")
    lines += [f"database: {f.get('id')} {_one_line(f.get('operation'))}: {_one_line(f.get('evidence'))}"
              for f in view.unattached()]
    lines += [f"problem: {_one_line(p)}" for p in view.problems]
    return "\n".join(lines)
