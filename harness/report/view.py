"""One reading of the run model, shared by every report format.

Every format renders the same :class:`~harness.model.RunModel` through this view: the same pairs, the
same findings attached to the same subjects, the same test verdicts and counts, in the same order, so
the HTML matrix, the JUnit cases, the Markdown headline and the terminal summary cannot contradict
each other or the pytest run. A document (``findings.json``, possibly half-finished) is read through
:func:`harness.model.from_document`, defensively: a partial run must still produce readable reports,
because that is when they are needed most.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from harness import model as m

COVERED, FORBIDDEN, UNCOVERED, EMPTY, UNREACHED = m.COVERED, m.FORBIDDEN, m.UNCOVERED, m.EMPTY, m.UNREACHED
FINDING, WAIVED = "finding", "waived"

#: Header names whose values are credentials; shown as ``<scheme> ***`` in every report.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})

_VERBS = {
    "foreign-row": "{principal} received data of tenant {victim} from {operation}",
    "non-interference": "{operation} answered {principal} differently when only tenant {victim}'s data changed",
    "write-isolation": "{operation} sent by {principal} changed data of tenant {victim}",
    "object-level": "{operation} served an object of tenant {victim} to {principal} instead of 403/404",
    "mass-assignment": "{operation} let {principal} set the tenant or owner of a row to tenant {victim}",
    "function-level": "{operation} answered {principal}, a role the scenario forbids it, with a success",
    "db-audit": "the database weakens tenant isolation at {operation}",
    "existence": "{operation} told {principal} what exists in tenant {victim}",
    "cross-reference": "{operation} let {principal} point its own data at tenant {victim}'s",
    "latent": "{operation} ran SQL that reads a tenant table with no tenant protection",
}
_FALLBACK_VERB = "{operation} crossed the isolation boundary from {principal} into tenant {victim}"


@dataclass(frozen=True)
class Cell:
    """One operation (or query) × principal pair, as the matrix and the JUnit case show it."""

    status: str
    reason: str | None = None
    requests: int = 0
    ok: int = 0
    findings: tuple[dict, ...] = ()
    waived: tuple[dict, ...] = ()
    outcome: str = m.PASSED

    @property
    def verdict(self) -> str:
        """What the matrix shows: an active finding outranks anything, a waived one any coverage status."""
        return FINDING if self.findings else WAIVED if self.waived else self.status


@dataclass
class ReportView:
    model: m.RunModel
    cells: dict[tuple[str, str], Cell]
    query_cells: dict[tuple[str, str], Cell]

    # -- what the model says, under the names the writers use -----------------------------------------
    @property
    def run(self) -> dict:
        return self.model.run

    @property
    def operations(self) -> list[str]:
        return self.model.operations

    @property
    def principals(self) -> list[str]:
        return self.model.principals

    @property
    def queries(self) -> list[str]:
        return self.model.queries

    @property
    def query_principals(self) -> list[str]:
        return self.model.principals

    @property
    def findings(self) -> list[dict]:
        """Active findings (they fail the scan), in a stable order."""
        return sorted(self.model.active, key=finding_sort_key)

    @property
    def waived(self) -> list[dict]:
        return sorted(self.model.waived, key=finding_sort_key)

    @property
    def notes(self) -> list[dict]:
        """Findings reported that do not fail this run (notes; warnings below the release profile)."""
        return sorted(self.model.notes, key=finding_sort_key)

    @property
    def problems(self) -> list[str]:
        return self.model.problems

    @property
    def ok(self) -> bool:
        return self.model.ok

    @property
    def incomplete(self) -> str | None:
        return self.model.incomplete

    @property
    def tests(self) -> list[m.Test]:
        return self.model.tests

    @property
    def scenario(self) -> str:
        return str(self.run.get("scenario") or "tenant-isolation")

    @property
    def headline(self) -> str:
        n = len(self.findings)
        text = f"{n} finding{'' if n == 1 else 's'}"
        if self.waived:
            text += f" ({len(self.waived)} waived)"
        if self.notes:
            text += f" ({len(self.notes)} note{'' if len(self.notes) == 1 else 's'})"
        return text + (" (incomplete)" if self.incomplete else "")

    @property
    def tests_line(self) -> str:
        c = self.model.test_counts()
        return f"tests: {c[m.FAILED]} failed, {c[m.PASSED]} passed, {c[m.SKIPPED]} skipped of {c['total']}"

    @property
    def verdict_note(self) -> str | None:
        """Why the run is not a pass, or None when it is: zero findings alone is not a pass."""
        if self.ok:
            return None
        reasons = []
        if self.incomplete:
            reasons.append(f"incomplete ({self.incomplete})")
        if self.findings:
            n = len(self.findings)
            reasons.append(f"{n} finding{'' if n == 1 else 's'}")
        if (n := len(self.uncovered())):
            reasons.append(f"{n} uncovered pair{'' if n == 1 else 's'}")
        if (n := len([p for p in self.problems if not p.startswith("scan incomplete")])):
            reasons.append(f"{n} problem{'' if n == 1 else 's'}")
        return "not a pass: " + (", ".join(reasons) if reasons else "the run reported a failure")

    def operations_covered(self) -> int:
        return self.model.operations_covered()

    @property
    def coverage_line(self) -> str:
        return (f"coverage: {self.operations_covered()}/{len(self.operations)} operations × "
                f"{len(self.principals)} principals")

    @property
    def queries_line(self) -> str | None:
        if not self.queries:
            return None
        return f"queries: {self.model.queries_covered()}/{len(self.queries)}"

    def pair_counts(self) -> dict[str, int]:
        return self.model.pair_counts()

    def uncovered(self) -> list[tuple[str, str, Cell]]:
        """Uncovered operation and query pairs, in matrix order."""
        out = [(op, p, self.cells[(op, p)]) for op in self.operations for p in self.principals
               if self.cells[(op, p)].status == UNCOVERED]
        out += [(q, p, self.query_cells[(q, p)]) for q in self.queries for p in self.principals
                if self.query_cells[(q, p)].status == UNCOVERED]
        return out

    def unattached(self) -> list[dict]:
        """Active findings on the database or the run itself (they fail the summary test)."""
        return [f for f in self.findings if f.get("subject") in (m.DATABASE, m.RUN)]


def _cell(pair: m.Pair, outcome: str) -> Cell:
    return Cell(pair.status, pair.reason, pair.requests, pair.ok, tuple(sorted(pair.findings, key=finding_sort_key)),
                tuple(sorted(pair.waived, key=finding_sort_key)), outcome)


def build_view(source) -> ReportView:
    """The view of a run model, or of a findings document (judged by the model first)."""
    model = source if isinstance(source, m.RunModel) else m.from_document(source or {})
    outcome = {t.name: t.outcome for t in model.tests}
    cells = {key: _cell(pair, outcome[f"test_operation[{key[0]}][{key[1]}]"]) for key, pair in model.pairs.items()}
    query_cells = {key: _cell(pair, outcome[f"test_query[{key[0]}][{key[1]}]"])
                   for key, pair in model.query_pairs.items()}
    return ReportView(model, cells, query_cells)


def seconds(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def finding_sort_key(f: dict) -> tuple:
    return (str(f.get("operation", "")), str(f.get("query") or ""), str(f.get("principal", "")),
            str(f.get("kind", "")), str(f.get("id", "")))


def where(f: dict) -> str:
    """What a finding is attached to, as a reader names it: the query, else the operation."""
    return f"query {f['query']}" if f.get("subject") == m.QUERY and f.get("query") else str(f.get("operation", "?"))


def describe(f: dict) -> str:
    """One sentence naming who saw whose data through what: the SARIF message, the JUnit message."""
    template = _VERBS.get(str(f.get("kind")), _FALLBACK_VERB)
    operation = where(f)
    if f.get("subject") == m.QUERY and f.get("operation") and not str(f["operation"]).startswith("query "):
        operation += f" (through {f['operation']})"
    return template.format(principal=f.get("principal", "?"), victim=f.get("victim_tenant", "?"),
                           operation=operation)


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


def waiver_note(f: dict) -> str | None:
    if f.get("waived"):
        w = f["waived"]
        return f"waived: {w.get('reason')}" + (f" (until {w['expires']})" if w.get("expires") else "")
    if f.get("waiver_expired"):
        w = f["waiver_expired"]
        return f"waiver expired on {w.get('expires')}: {w.get('reason')} (no longer applies)"
    return None


def finding_text(f: dict) -> str:
    """Everything a developer needs to act on one finding, as plain text (JUnit, terminal)."""
    parts = [
        f"{f.get('id', '?')} [{f.get('kind', '?')}] {f.get('title') or describe(f)}",
        describe(f) + ".",
        f"{'query' if f.get('subject') == m.QUERY else 'operation'}: {where(f)}  principal: {f.get('principal', '?')}  "
        f"victim tenant: {f.get('victim_tenant', '?')}",
        f"oracle: {f.get('oracle', '?')}  phase: {f.get('phase', '?')}  status: {f.get('status', '?')}  "
        f"seed: {f.get('seed', '?')}",
    ]
    if (note := waiver_note(f)):
        parts.append(note)
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
    return _NOT_XML.sub(lambda m_: f"\\x{ord(m_.group()):02x}" if ord(m_.group()) < 0x100
                        else f"\\u{ord(m_.group()):04x}", s)
