"""The run model: what one scan established, judged once, rendered everywhere.

Operations, queries and principals; every pair's coverage; every finding attached to exactly one
subject (an operation, a query, the database, or the run itself when it names neither); problems;
waivers; and the verdict of every pytest test the scan is made of (one per operation × principal,
one per query × principal, the summary). ``findings.json`` is this model's serialisation, and the
JUnit, SARIF, HTML, Markdown and terminal reports and the pytest tests all read it, so their counts
cannot disagree.

The model is derived from raw counts (requests, statuses, rows per pair) and raw findings by
:func:`derive`, the only place that judges. Raw documents can be merged (:func:`merge`: the xdist
workers' shares of one run) and judged again, with the same result as one serial document.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness import waivers as waiver_mod

OPERATION, QUERY, DATABASE, RUN = "operation", "query", "database", "run"
COVERED, FORBIDDEN, UNCOVERED, EMPTY, UNREACHED = "covered", "forbidden", "uncovered", "empty", "unreached"
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
#: Phases that establish coverage, and of what (``--phases`` relaxes the gate to what they reach).
REACH = {"sweep": OPERATION, "fuzz": OPERATION, "reports": QUERY, "audit": DATABASE}


@dataclass
class Pair:
    """One operation × principal (requests, responses that kept the spec's promise) or query ×
    principal (runs, rows)."""

    subject: str
    name: str
    principal: str
    status: str
    reason: str | None
    requests: int = 0
    ok: int = 0
    statuses: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)  # active
    waived: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # reported, not failing (see :func:`blocking`)


@dataclass
class Test:
    """One pytest test of the scan and its verdict."""

    function: str  # test_operation | test_query | test_scan
    id: str  # the parametrize id: "GET /x][tenant:role", "query][tenant:role", "summary"
    outcome: str
    message: str = ""

    @property
    def name(self) -> str:
        return f"{self.function}[{self.id}]"


@dataclass
class RunModel:
    run: dict
    operations: list[str]
    principals: list[str]
    queries: list[str]
    pairs: dict[tuple[str, str], Pair]
    query_pairs: dict[tuple[str, str], Pair]
    findings: list[dict]  # every finding, active and waived, in the order the scan produced them
    problems: list[str]
    waivers: list[dict]
    errors: list[str]
    tests: list[Test] = field(default_factory=list)

    # -- questions every report asks ----------------------------------------------------------------
    @property
    def active(self) -> list[dict]:
        """Findings that fail the scan: not waived, and blocking at this run's profile."""
        return [f for f in self.findings if not f.get("waived") and blocking(f, self.run)]

    @property
    def waived(self) -> list[dict]:
        return [f for f in self.findings if f.get("waived")]

    @property
    def notes(self) -> list[dict]:
        """Findings reported for the reader that do not fail this run (notes; warnings below release)."""
        return [f for f in self.findings if not f.get("waived") and not blocking(f, self.run)]

    @property
    def incomplete(self) -> str | None:
        return self.run.get("incomplete")

    def attached(self, subject: str) -> list[dict]:
        return [f for f in self.active if f["subject"] == subject]

    def test_counts(self) -> dict[str, int]:
        counts = Counter(t.outcome for t in self.tests)
        return {"total": len(self.tests), PASSED: counts[PASSED], FAILED: counts[FAILED], SKIPPED: counts[SKIPPED]}

    @property
    def ok(self) -> bool:
        return not self.incomplete and not any(t.outcome == FAILED for t in self.tests)

    def operations_covered(self) -> int:
        """Operations no principal left uncovered and at least one covered."""
        done = 0
        for op in self.operations:
            statuses = {self.pairs[(op, p)].status for p in self.principals}
            done += UNCOVERED not in statuses and COVERED in statuses
        return done

    def queries_covered(self) -> int:
        return sum(1 for q in self.queries if any(self.query_pairs[(q, p)].status == COVERED for p in self.principals))

    def uncovered(self) -> list[Pair]:
        return ([self.pairs[(o, p)] for o in self.operations for p in self.principals
                 if self.pairs[(o, p)].status == UNCOVERED]
                + [self.query_pairs[(q, p)] for q in self.queries for p in self.principals
                   if self.query_pairs[(q, p)].status == UNCOVERED])

    def pair_counts(self) -> dict[str, int]:
        counts = Counter(pair.status for pair in self.pairs.values())
        return {s: counts[s] for s in (COVERED, FORBIDDEN, UNCOVERED, UNREACHED)}

    def summary(self) -> dict:
        tests = self.test_counts()
        return {"findings": len(self.active), "waived": len(self.waived), "notes": len(self.notes),
                **self.pair_counts(),
                "operations": len(self.operations), "operations_covered": self.operations_covered(),
                "queries": len(self.queries), "queries_covered": self.queries_covered(),
                "tests": tests, "ok": self.ok, "incomplete": self.incomplete, "problems": list(self.problems),
                "errors": self.errors[:20]}

    # -- serialisation ------------------------------------------------------------------------------
    def to_document(self) -> dict:
        """``findings.json``: raw counts and their verdicts side by side (re-readable by :func:`from_document`)."""
        verdicts = {t.name: t for t in self.tests}

        def row(pair: Pair, function: str) -> dict:
            key = "operation" if pair.subject == OPERATION else "query"
            test = verdicts[f"{function}[{pair.name}][{pair.principal}]"]
            out = {key: pair.name, "principal": pair.principal}
            if pair.subject == OPERATION:
                out.update(requests=pair.requests, ok=pair.ok, statuses=pair.statuses, reasons=pair.reasons)
            else:
                out.update(runs=pair.requests, rows=pair.ok)
            out.update(forbidden=pair.status == FORBIDDEN, status=pair.status, reason=pair.reason,
                       findings=[f["id"] for f in pair.findings], waived=[f["id"] for f in pair.waived],
                       notes=[f["id"] for f in pair.notes], test=test.outcome)
            return out

        summary_test = verdicts["test_scan[summary]"]
        return {
            "run": dict(self.run),
            "coverage": [row(self.pairs[(o, p)], "test_operation") for o in self.operations for p in self.principals],
            "queries": [row(self.query_pairs[(q, p)], "test_query") for q in self.queries for p in self.principals],
            "findings": self.findings,
            "waivers": self.waivers,
            "summary": {**self.summary(), "verdict": summary_test.message or None},
        }


# -- judging --------------------------------------------------------------------------------------------
def blocking(f: dict, run: dict) -> bool:
    """Whether a (not waived) finding fails the scan: errors always, warnings in the ``release``
    profile only, notes never."""
    severity = f.get("severity") or "error"
    return severity == "error" or (severity == "warning" and run.get("profile") == "release")


def gates_for(phases, selected: bool) -> dict:
    """What the chosen phases can establish: the coverage gates, and whether a stale waiver counts."""
    reach = {REACH.get(ph) for ph in phases}
    return {"operations": OPERATION in reach, "queries": QUERY in reach, "stale_waivers": not selected}


def attach(f: dict, operations: set, queries: set, principals: set) -> tuple[str, str | None]:
    """The one subject a finding belongs to: its query, its operation, the database, or the run."""
    if f.get("kind") == "db-audit":
        return DATABASE, None
    operation = str(f.get("operation") or "")
    query = f.get("query") or (operation[6:] if operation.startswith("query ") else None)
    if query is not None:
        return (QUERY, query) if query in queries and f.get("principal") in principals else (RUN, None)
    if operation in operations and f.get("principal") in principals:
        return OPERATION, operation
    return RUN, None


def _hint(statuses: dict) -> str:
    codes = {k for k in statuses if k != "timeout"}
    if codes and codes <= {"401"}:
        return " (authentication failed: check the principal's credentials)"
    if codes and codes <= {"422", "400"}:
        return " (every request was rejected as invalid: the generator cannot build a valid request)"
    if codes and codes <= {"404"}:
        return " (every id was unknown: no id of the principal's own fits this operation)"
    return ""


def operation_status(row: dict, gates: dict, incomplete: str | None) -> tuple[str, str | None]:
    requests, ok = int(row.get("requests") or 0), int(row.get("ok") or 0)
    statuses = {str(k): int(v) for k, v in (row.get("statuses") or {}).items()}
    reasons = {str(k): int(v) for k, v in (row.get("reasons") or {}).items()}
    if row.get("forbidden") or row.get("status") == FORBIDDEN:
        return FORBIDDEN, None
    if ok:
        return COVERED, None
    if not requests:
        why = f"never sent: the scan stopped early ({incomplete})" if incomplete else "never sent"
        if reasons:
            why = "not sent: " + "; ".join(sorted(reasons))
        return (UNREACHED, "not exercised by the selected phases") if not gates["operations"] else (UNCOVERED, why)
    seen = ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items()))
    detail = "; ".join(f"{r} ×{n}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    reason = f"no success the spec promises in {requests} requests: {seen}" + (f" ({detail})" if detail else "") \
        + _hint(statuses)
    if not gates["operations"]:
        return UNREACHED, f"not exercised by the selected phases ({reason})"
    return UNCOVERED, reason


def query_status(row: dict, gates: dict, incomplete: str | None) -> tuple[str, str | None]:
    runs, rows = int(row.get("runs") or 0), int(row.get("rows") or 0)
    if row.get("forbidden") or row.get("status") == FORBIDDEN:
        return FORBIDDEN, None
    if rows:
        return COVERED, None
    if not gates["queries"]:
        return UNREACHED, "the reports phase was not selected"
    if runs:
        return EMPTY, f"no rows in {runs} runs"
    if incomplete:
        return UNCOVERED, f"never ran: the scan stopped early ({incomplete})"
    return UNCOVERED, "never ran (every parameter set was rejected?)"


def _finding_line(f: dict) -> str:
    line = f"{f.get('id')} {f.get('kind')} → victim {f.get('victim_tenant')}: {f.get('evidence')}"
    return line + (f"\n    {f['curl']}" if f.get("curl") else "")


def _pair_test(function: str, pair: Pair, unit: str) -> Test:
    tid = f"{pair.name}][{pair.principal}"
    if pair.findings:
        message = f"{len(pair.findings)} isolation finding(s):\n" + "\n".join(map(_finding_line, pair.findings))
        return Test(function, tid, FAILED, message)
    if pair.status == UNCOVERED:
        return Test(function, tid, FAILED, f"not covered: {pair.reason}")
    if pair.status == FORBIDDEN:
        return Test(function, tid, SKIPPED, f"{unit} forbidden for this role (must be refused)")
    if pair.status == UNREACHED:
        return Test(function, tid, SKIPPED, pair.reason or "not exercised")
    note = f"{len(pair.waived)} waived finding(s): " + ", ".join(f["id"] for f in pair.waived) if pair.waived else ""
    if pair.notes:
        note = "; ".join(filter(None, [note, f"{len(pair.notes)} note(s): " + ", ".join(f["id"] for f in pair.notes)]))
    return Test(function, tid, PASSED, note)


def derive(run: dict, coverage: list[dict], query_rows: list[dict], findings: list[dict],
           errors: list[str] | None = None) -> RunModel:
    """Judge a run from its raw counts and findings: statuses, attachment, waivers, problems, tests."""
    run = dict(run)
    gates = {"operations": True, "queries": True, "stale_waivers": True, **(run.get("gates") or {})}
    incomplete = run.get("incomplete")
    operations = _ordered(run.get("operations"), (c.get("operation") for c in coverage))
    queries = _ordered(run.get("queries"), (q.get("query") for q in query_rows))
    elsewhere = _other_shards(run, operations, queries)
    if elsewhere:
        gates["stale_waivers"] = False  # a waiver may match a finding of another shard
    principals = _ordered(run.get("principals"), [c.get("principal") for c in coverage]
                          + [q.get("principal") for q in query_rows])
    run.update(operations=operations, queries=queries, principals=principals)

    # Findings: one subject each, waivers applied.
    declared = waiver_mod.parse(run.get("waivers") or [])
    today = waiver_mod.today(run.get("started"))
    matched: dict[int, list[str]] = {i: [] for i in range(len(declared))}
    judged = []
    op_set, q_set, p_set = set(operations), set(queries), set(principals)
    for raw in findings:
        f = {k: v for k, v in raw.items() if k not in ("subject", "waived", "waiver_expired")}
        subject, query = attach(f, op_set, q_set, p_set)
        f["subject"] = subject
        if subject == QUERY:
            f["query"] = query
        f["waived"] = None
        for i, w in enumerate(declared):
            if w.matches(f):
                matched[i].append(f["id"])
                if w.expired(today):
                    f["waiver_expired"] = {"reason": w.reason, "expires": w.expires, "waiver": w.describe()}
                else:
                    f["waived"] = {"reason": w.reason, "expires": w.expires, "waiver": w.describe()}
                break
        judged.append(f)
    problems: list[str] = []
    waiver_rows = []
    for i, w in enumerate(declared):
        ids = matched[i]
        if not ids:
            status = "stale" if gates["stale_waivers"] and not incomplete else "unmatched"
        else:
            status = "expired" if w.expired(today) else "applied"
        waiver_rows.append({**w.as_dict(), "status": status, "matched": ids})
        if status == "stale":
            problems.append(f"stale waiver {w.describe()}: it matches no finding of this run; remove it "
                            f"(reason given: {w.reason})")

    def by_pair(subject: str) -> dict:
        out: dict[tuple[str, str], list[dict]] = {}
        for f in judged:
            if f["subject"] == subject:
                out.setdefault((f.get("query") if subject == QUERY else f["operation"], f["principal"]), []).append(f)
        return out

    op_findings, q_findings = by_pair(OPERATION), by_pair(QUERY)
    rows = {(str(c.get("operation")), str(c.get("principal"))): c for c in coverage}
    pairs = {}
    for op in operations:
        for p in principals:
            row = rows.get((op, p), {})
            status, reason = operation_status(row, gates, incomplete)
            if op in elsewhere:
                status, reason = UNREACHED, elsewhere[op]
            attached = op_findings.get((op, p), [])
            pairs[(op, p)] = Pair(OPERATION, op, p, status, reason, int(row.get("requests") or 0),
                                  int(row.get("ok") or 0), dict(row.get("statuses") or {}),
                                  dict(row.get("reasons") or {}), *_split(attached, run))
    qrows = {(str(q.get("query")), str(q.get("principal"))): q for q in query_rows}
    query_pairs = {}
    for q in queries:
        for p in principals:
            row = qrows.get((q, p), {})
            status, reason = query_status(row, gates, incomplete)
            if f"query {q}" in elsewhere:
                status, reason = UNREACHED, elsewhere[f"query {q}"]
            attached = q_findings.get((q, p), [])
            active, waived, notes = _split(attached, run)
            query_pairs[(q, p)] = Pair(QUERY, q, p, status, reason, int(row.get("runs") or 0),
                                       int(row.get("rows") or 0), findings=active, waived=waived, notes=notes)

    # Problems: what fails the summary test besides the findings it carries.
    if gates["queries"]:
        for q in [q for q in queries if f"query {q}" not in elsewhere]:
            allowed = [query_pairs[(q, p)] for p in principals if query_pairs[(q, p)].status != FORBIDDEN]
            if not allowed or not any(pair.requests for pair in allowed):
                problems.append(f"query {q}: never run (no principal may run it?)" if not allowed
                                else f"query {q}: never ran for any principal")
            elif not any(pair.ok for pair in allowed):
                problems.append(f"query {q}: returned no rows for any principal in "
                                f"{sum(pair.requests for pair in allowed)} runs")
    if incomplete:
        problems.append(f"scan incomplete: {incomplete}")

    model = RunModel(run, operations, principals, queries, pairs, query_pairs, judged, problems, waiver_rows,
                     list(errors or []))
    model.tests = [_pair_test("test_operation", pairs[(o, p)], "operation") for o in operations for p in principals]
    model.tests += [_pair_test("test_query", query_pairs[(q, p)], "query") for q in queries for p in principals]
    if not queries:
        model.tests.append(Test("test_query", "no-queries", SKIPPED, "the scenario declares no reporting queries"))
    model.tests.append(_summary_test(model))
    return model


def _other_shards(run: dict, operations: list[str], queries: list[str]) -> dict[str, str]:
    """Operations (and ``query <name>``) a shard run left to the other shards -> why they are not its
    to cover (``--shard i/n``, an xdist worker's share): judged where they were scanned, after a merge."""
    shard = run.get("shard")
    if not shard:
        return {}
    from harness.partition import share

    index, count = int(shard[0]), int(shard[1])
    mine_ops, mine_queries = share(operations, queries, index, count)
    why = f"scanned by another shard (this is {index + 1}/{count}; merge the shards' reports)"
    return {**{op: why for op in operations if op not in mine_ops},
            **{f"query {q}": why for q in queries if q not in mine_queries}}


def _split(attached: list[dict], run: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """(active, waived, notes) of a pair's findings."""
    return ([f for f in attached if not f["waived"] and blocking(f, run)], [f for f in attached if f["waived"]],
            [f for f in attached if not f["waived"] and not blocking(f, run)])


def _summary_test(model: RunModel) -> Test:
    lines = []
    audit = model.attached(DATABASE)
    if audit:
        lines.append(f"database audit: {len(audit)} issue(s)")
        lines += [f"{f['id']} {f['operation']}: {f['evidence']}" for f in audit]
    other = model.attached(RUN)
    if other:
        lines.append("findings outside the spec's operations and queries:")
        lines += [f"{f['id']} {f.get('operation')} as {f.get('principal')}: {f.get('evidence')}" for f in other]
    lines += model.problems
    return Test("test_scan", "summary", FAILED if lines else PASSED, "\n".join(lines))


# -- reading and merging documents ---------------------------------------------------------------------
def from_document(doc: dict) -> RunModel:
    """The model of a ``findings.json`` (re-judged from its raw counts)."""
    doc = doc or {}
    return derive(doc.get("run") or {}, [c for c in doc.get("coverage") or [] if isinstance(c, dict)],
                  [q for q in doc.get("queries") or [] if isinstance(q, dict)],
                  [f for f in doc.get("findings") or [] if isinstance(f, dict)],
                  list((doc.get("summary") or {}).get("errors") or []))


def merge(docs: list[dict]) -> dict:
    """One raw document from the shares of one run (same seed, same world, disjoint work)."""
    docs = [d for d in docs if d]
    if not docs:
        return {}
    run = dict(docs[0].get("run") or {})
    run.pop("shard", None)
    run["shares"] = [{k: (d.get("run") or {}).get(k) for k in ("requests", "phase_seconds", "duration_s")}
                     for d in docs]
    for key in ("requests", "server_errors", "timeouts"):
        run[key] = sum(int((d.get("run") or {}).get(key) or 0) for d in docs)
    for key in ("skipped", "public_markers"):
        run[key] = list(dict.fromkeys(x for d in docs for x in (d.get("run") or {}).get(key) or []))
    twins = {k: v for d in docs for k, v in ((d.get("run") or {}).get("twins") or {}).items()}
    run["twins"] = twins or None
    run["security_definer"] = next((d["run"]["security_definer"] for d in docs
                                    if (d.get("run") or {}).get("security_definer") is not None), None)
    run["sql"] = merge_inventories([(d.get("run") or {}).get("sql") for d in docs])
    reasons = [d["run"]["incomplete"] for d in docs if (d.get("run") or {}).get("incomplete")]
    run["incomplete"] = "; ".join(dict.fromkeys(reasons)) or None
    coverage: dict[tuple, dict] = {}
    for d in docs:
        for c in d.get("coverage") or []:
            key = (c.get("operation"), c.get("principal"))
            into = coverage.setdefault(key, {"operation": key[0], "principal": key[1], "requests": 0, "ok": 0,
                                             "statuses": Counter(), "reasons": Counter(), "forbidden": False})
            into["requests"] += int(c.get("requests") or 0)
            into["ok"] += int(c.get("ok") or 0)
            into["statuses"].update({str(k): int(v) for k, v in (c.get("statuses") or {}).items()})
            into["reasons"].update({str(k): int(v) for k, v in (c.get("reasons") or {}).items()})
            into["forbidden"] = into["forbidden"] or bool(c.get("forbidden"))
    queries: dict[tuple, dict] = {}
    for d in docs:
        for q in d.get("queries") or []:
            key = (q.get("query"), q.get("principal"))
            into = queries.setdefault(key, {"query": key[0], "principal": key[1], "runs": 0, "rows": 0,
                                            "forbidden": False})
            into["runs"] += int(q.get("runs") or 0)
            into["rows"] += int(q.get("rows") or 0)
            into["forbidden"] = into["forbidden"] or bool(q.get("forbidden"))
    findings: dict[str, dict] = {}
    for d in docs:
        for f in d.get("findings") or []:
            if f["id"] in findings:
                findings[f["id"]]["occurrences"] = findings[f["id"]].get("occurrences", 1) + f.get("occurrences", 1)
            else:
                findings[f["id"]] = dict(f)
    for c in coverage.values():
        c["statuses"] = dict(sorted(c["statuses"].items()))
        c["reasons"] = dict(sorted(c["reasons"].items()))
    errors = [e for d in docs for e in (d.get("summary") or {}).get("errors") or []]
    ordered = sorted(findings.values(), key=lambda f: (f.get("requests_before", 0), f["id"]))
    return from_document({"run": run, "coverage": list(coverage.values()), "queries": list(queries.values()),
                          "findings": ordered, "summary": {"errors": errors}}).to_document()


def merge_inventories(parts: list[dict | None]) -> dict | None:
    """One statement inventory (``run.sql``, harness.rootcause) from the shares of a run: statements by
    id (calls and rows summed), subjects by name (requests summed, statements joined), latent ids joined,
    counts per verdict and per table recomputed from the merged statements."""
    parts = [p for p in parts if p]
    if not parts:
        return None
    available = [p for p in parts if p.get("available")]
    if not available:
        return dict(parts[0])
    statements: dict[str, dict] = {}
    for part in available:
        for s in part.get("statements") or []:
            if s["id"] in statements:
                into = statements[s["id"]]
                for key in ("calls", "rows"):
                    if isinstance(s.get(key), int):
                        into[key] = (into.get(key) or 0) + s[key]
            else:
                statements[s["id"]] = dict(s)
    subjects: dict[str, dict] = {}
    for part in available:
        for s in part.get("subjects") or []:
            into = subjects.setdefault(s["subject"], {**s, "requests": 0, "via": [], "statements": []})
            into["requests"] += int(s.get("requests") or 0)
            into["via"] = list(dict.fromkeys(into["via"] + list(s.get("via") or [])))
            into["statements"] = list(dict.fromkeys(into["statements"] + list(s.get("statements") or [])))
    counts: dict[str, int] = {"statements": len(statements)}
    tables: dict[str, dict[str, int]] = {}
    for s in statements.values():
        counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
        for t in s.get("tables") or []:
            row = tables.setdefault(t["table"], {"predicate": 0, "rls-only": 0, "unprotected": 0})
            row[t["verdict"]] = row.get(t["verdict"], 0) + 1
    first = available[0]
    return {**first, "missed_sessions": sum(int(p.get("missed_sessions") or 0) for p in available),
            "counts": counts, "tables": dict(sorted(tables.items())), "subjects": list(subjects.values()),
            "statements": list(statements.values()),
            "latent": list(dict.fromkeys(x for p in available for x in p.get("latent") or [])),
            "merged": len(parts)}


def _ordered(declared, seen) -> list[str]:
    """Declared order first (the scenario's and the spec's), then anything else seen, sorted."""
    out = [str(x) for x in (declared or [])]
    known = set(out)
    out += sorted({str(x) for x in seen if x is not None and str(x) not in known})
    return list(dict.fromkeys(out))
