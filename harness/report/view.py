"""One normalised reading of the findings document, shared by every report format.

The writers must agree on what "covered" means and on the order of everything, so that the same
document always renders to the same bytes and the HTML matrix, the JUnit cases and the Markdown
headline never contradict each other. The document is read defensively (``.get`` with defaults): a
half-finished run must still produce readable reports, because that is when they are needed most.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

COVERED, FORBIDDEN, UNCOVERED, FINDING = "covered", "forbidden", "uncovered", "finding"
#: A query a principal ran without getting rows: not a gap (the gate is rows for some principal).
EMPTY = "empty"
NO_RECORD = "no coverage record: this pair was never exercised"

#: Header names whose values are credentials; shown as ``<scheme> ***`` in every report.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})

_VERBS = {
    "foreign-row": "{principal} received data of tenant {victim} from {operation}",
    "non-interference": "{operation} answered {principal} differently when only tenant {victim}'s data changed",
    "write-isolation": "{operation} sent by {principal} changed data of tenant {victim}",
    "object-level": "{operation} served an object of tenant {victim} to {principal} instead of 403/404",
    "mass-assignment": "{operation} let {principal} set the tenant or owner of a row to tenant {victim}",
}
_FALLBACK_VERB = "{operation} crossed the isolation boundary from {principal} into tenant {victim}"


@dataclass(frozen=True)
class Cell:
    """One operation (or query) × principal pair."""

    status: str
    reason: str | None = None
    requests: int = 0
    ok: int = 0
    findings: tuple[dict, ...] = ()

    @property
    def verdict(self) -> str:
        """What the matrix shows: a finding outranks any coverage status."""
        return FINDING if self.findings else self.status


@dataclass
class ReportView:
    run: dict
    operations: list[str]
    principals: list[str]
    queries: list[str]
    query_principals: list[str]
    cells: dict[tuple[str, str], Cell]
    query_cells: dict[tuple[str, str], Cell]
    findings: list[dict]
    problems: list[str]
    ok: bool

    @property
    def scenario(self) -> str:
        return str(self.run.get("scenario") or "tenant-isolation")

    @property
    def headline(self) -> str:
        n = len(self.findings)
        return f"{n} finding{'' if n == 1 else 's'}"

    @property
    def verdict_note(self) -> str | None:
        """Why the run is not a pass, or None when it is: zero findings alone is not a pass."""
        if self.ok:
            return None
        reasons = []
        if self.findings:
            reasons.append(self.headline)
        if (n := len(self.uncovered())):
            reasons.append(f"{n} uncovered pair{'' if n == 1 else 's'}")
        if (n := len(self.problems)):
            reasons.append(f"{n} problem{'' if n == 1 else 's'}")
        return "not a pass: " + (", ".join(reasons) if reasons else "the run reported a failure")

    def operations_covered(self) -> int:
        """Operations every principal reached (or was declared forbidden from), and one did reach."""
        return sum(1 for op in self.operations if _fully_covered(self.cells, op, self.principals))

    @property
    def coverage_line(self) -> str:
        return (f"coverage: {self.operations_covered()}/{len(self.operations)} operations × "
                f"{len(self.principals)} principals")

    @property
    def queries_line(self) -> str | None:
        if not self.queries:
            return None
        done = sum(1 for q in self.queries
                   if any(self.query_cells[(q, p)].status == COVERED for p in self.query_principals))
        return f"queries: {done}/{len(self.queries)}"

    def pair_counts(self) -> dict[str, int]:
        counts = {COVERED: 0, FORBIDDEN: 0, UNCOVERED: 0}
        for cell in self.cells.values():
            counts[cell.status] = counts.get(cell.status, 0) + 1
        return counts

    def uncovered(self) -> list[tuple[str, str, Cell]]:
        """Uncovered operation and query pairs, in matrix order."""
        out = [(op, p, self.cells[(op, p)]) for op in self.operations for p in self.principals
               if self.cells[(op, p)].status == UNCOVERED]
        out += [(q, p, self.query_cells[(q, p)]) for q in self.queries for p in self.query_principals
                if self.query_cells[(q, p)].status == UNCOVERED]
        return out


def _fully_covered(cells, op: str, principals: list[str]) -> bool:
    statuses = [cells[(op, p)].status for p in principals]
    return UNCOVERED not in statuses and COVERED in statuses


def _ordered(declared, seen) -> list[str]:
    """Declared order first (the scenario's), then anything else seen, sorted: deterministic."""
    out = [str(x) for x in (declared or [])]
    known = set(out)
    out += sorted({str(x) for x in seen if x is not None and str(x) not in known})
    return list(dict.fromkeys(out))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def seconds(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def finding_sort_key(f: dict) -> tuple:
    return (str(f.get("operation", "")), str(f.get("principal", "")), str(f.get("kind", "")),
            str(f.get("id", "")))


def build_view(doc: dict) -> ReportView:
    doc = doc or {}
    run = dict(doc.get("run") or {})
    coverage = [c for c in doc.get("coverage") or [] if isinstance(c, dict)]
    query_rows = [q for q in doc.get("queries") or [] if isinstance(q, dict)]
    findings = sorted((f for f in doc.get("findings") or [] if isinstance(f, dict)), key=finding_sort_key)
    summary = doc.get("summary") or {}

    queries = _ordered(run.get("queries"), (q.get("query") for q in query_rows))
    query_set = set(queries)
    operations = _ordered(run.get("operations"),
                          [c.get("operation") for c in coverage]
                          + [f.get("operation") for f in findings if f.get("operation") not in query_set])
    principals = _ordered(run.get("principals"),
                          [c.get("principal") for c in coverage]
                          + [f.get("principal") for f in findings if f.get("operation") not in query_set])
    seen = {str(x) for x in [q.get("principal") for q in query_rows]
            + [f.get("principal") for f in findings if f.get("operation") in query_set]}
    query_principals = _ordered([p for p in principals if p in seen], seen)

    by_pair: dict[tuple[str, str], list[dict]] = {}
    for f in findings:
        by_pair.setdefault((str(f.get("operation")), str(f.get("principal"))), []).append(f)

    def cell(record: dict | None, key: tuple[str, str]) -> Cell:
        if record is None:
            return Cell(UNCOVERED, NO_RECORD, findings=tuple(by_pair.get(key, ())))
        status = record.get("status") if record.get("status") in (COVERED, FORBIDDEN, UNCOVERED, EMPTY) \
            else UNCOVERED
        return Cell(status, record.get("reason"), _int(record.get("requests", record.get("runs"))),
                    _int(record.get("ok", record.get("rows"))), tuple(by_pair.get(key, ())))

    records = {(str(c.get("operation")), str(c.get("principal"))): c for c in coverage}
    cells = {(op, p): cell(records.get((op, p)), (op, p)) for op in operations for p in principals}
    qrecords = {(str(q.get("query")), str(q.get("principal"))): q for q in query_rows}
    query_cells = {(q, p): cell(qrecords.get((q, p)), (q, p)) for q in queries for p in query_principals}

    problems = [str(p) for p in summary.get("problems") or []]
    view = ReportView(run, operations, principals, queries, query_principals, cells, query_cells,
                      findings, problems, ok=False)
    view.ok = bool(summary["ok"]) if "ok" in summary else (
        not findings and not problems and not view.uncovered())
    return view


def describe(f: dict) -> str:
    """One sentence naming who saw whose data through what: the SARIF message, the JUnit message."""
    template = _VERBS.get(str(f.get("kind")), _FALLBACK_VERB)
    return template.format(principal=f.get("principal", "?"), victim=f.get("victim_tenant", "?"),
                           operation=f.get("operation", "?"))


def redact_header(name: str, value) -> str:
    value = str(value)
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value else ""
    return f"{scheme} ***" if scheme else "***"


def format_request(request) -> str:
    """The request as a reader wants to see it: method and URL, headers, then the body."""
    if not isinstance(request, dict):
        return "" if request is None else str(request)
    lines = [f"{request.get('method', '?')} {request.get('url', '?')}"]
    headers = request.get("headers") or {}
    if isinstance(headers, dict):
        lines += [f"{k}: {redact_header(k, v)}" for k, v in sorted(headers.items(), key=lambda kv: str(kv[0]))]
    body = request.get("body")
    if body not in (None, "", b""):
        lines.append("")
        lines.append(body if isinstance(body, str) else json.dumps(body, indent=2, sort_keys=True,
                                                                  ensure_ascii=False, default=str))
    return "\n".join(lines)


def finding_text(f: dict) -> str:
    """Everything a developer needs to act on one finding, as plain text (JUnit, terminal)."""
    parts = [
        f"{f.get('id', '?')} [{f.get('kind', '?')}] {f.get('title') or describe(f)}",
        describe(f) + ".",
        f"operation: {f.get('operation', '?')}  principal: {f.get('principal', '?')}  "
        f"victim tenant: {f.get('victim_tenant', '?')}",
        f"oracle: {f.get('oracle', '?')}  phase: {f.get('phase', '?')}  status: {f.get('status', '?')}  "
        f"seed: {f.get('seed', '?')}",
    ]
    for label, body in (("evidence", f.get("evidence")), ("request", format_request(f.get("request"))),
                        ("curl", f.get("curl")), ("reproduce", f.get("reproduce"))):
        if body not in (None, ""):
            parts.append(f"{label}:\n" + "\n".join("  " + line for line in str(body).splitlines()))
    return "\n".join(parts)


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text) -> str:
    """Characters XML 1.0 cannot carry (NUL, other controls, lone surrogates) shown as escapes.

    Evidence is cut from response bodies; one stray control byte must not make the JUnit file
    unparseable for the CI that reads it.
    """
    s = "" if text is None else str(text)
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", s)
