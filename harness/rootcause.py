"""Root cause in SQL: the statements each request ran, and which leave a tenant table unprotected.

A finding says *what* leaked; a developer then has to find *where*. On an in-process run the harness
owns the database, so it can watch the app work: a :class:`~harness.sql.StatementCapture` on the run's
clone (started before the app opens its pool, or the pool's sessions would log nothing), taken after
every request (in-process requests go one at a time, so a take is exactly one request's statements),
and every distinct statement (fingerprint × role) analysed once with pglast
(:func:`harness.sql.analyze`: per tenant table, constrained by its own predicate, by RLS only, or not
at all). Three things come out of it, all through the findings document:

- a finding's ``root_cause``: the statements of the finding's own request that touched a tenant table
  without protection (``from: request``), or, when no database of the run served the request (the
  non-interference twins are other clones), the unprotected statements its operation or query ran
  during the scan (``from: inventory``);
- the inventory (``run.sql``): every distinct statement per endpoint and per report, with its verdict
  per table, and counts per table; ``reports/queries.md`` and a section of ``index.html`` render it;
- ``latent`` warnings: an unprotected statement that no finding explains, on a table the database
  puts under row-level security, is a leak waiting for the data that shows it (a count over every
  tenant that no twin happened to move). A warning fails only the ``release`` profile.

Statements the harness itself runs on the clone (the change log, the reference checks) are not the
app's: their session is ignored; whatever runs between phases (logins, the audit's catalogue reads) is
dropped at each phase's start. Live targets get no capture: their requests run concurrently and the
harness does not own their server's log.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict

from harness.findings import Finding, Request
from harness.sql import Catalogue, Statement, StatementAnalysis, StatementCapture, analyze, catalogue, fingerprint

#: A root cause's statement text is cut here (a 100-line report is named, not dumped, in each finding).
CAUSE_TEXT = 300
#: The inventory keeps this much of each statement's normalised text.
INVENTORY_TEXT = 1200
#: At most this many root-cause entries per finding (the request's own statements first).
MAX_CAUSES = 8
LIVE = "root cause in SQL: live target (its requests run concurrently and its server's log is not the harness's)"
OFF = "root cause in SQL: switched off by the profile (capture = False)"


@dataclass
class Distinct:
    """One distinct statement (pglast fingerprint × the role it ran as), analysed once."""

    key: str
    text: str  # normalised (constants as $n), whitespace collapsed
    role: str
    analysis: StatementAnalysis
    source: str
    calls: int = 0
    rows: int | None = None
    queryids: set = field(default_factory=set)


@dataclass
class Subject:
    """An operation, or a reporting query (through its endpoint or in the database): what ran it."""

    label: str  # "GET /api/x" or "query name"
    query: str  # the reporting query's name, or ""
    requests: int = 0
    via: dict = field(default_factory=dict)  # endpoint labels (or "database") -> None, in order
    #: statement key -> who first ran it here: (principal name, role, phase, request)
    first: dict = field(default_factory=dict)


class RootCause:
    """Owned by the run context (``ctx.sql``): start, :meth:`took` per request, :meth:`stop`, :meth:`conclude`."""

    def __init__(self, cat: Catalogue | None = None):
        self.catalogue = cat
        self.capture: StatementCapture | None = None
        self.available = False
        self.method = "none"
        self.reason = ""
        self.capturing = False
        self.statements: dict[str, Distinct] = {}  # key -> statement, in order of first sight
        self.subjects: dict[str, Subject] = {}
        self.latent: list[str] = []
        self._by_fp: dict[tuple[str, str], Distinct] = {}
        self.missed_sessions = 0
        self._concluded = False

    # -- lifecycle -------------------------------------------------------------------------------------
    @classmethod
    async def start(cls, ctx) -> "RootCause | None":
        """Capture the run database's statements from now on (call before the app is created).

        None when the profile switches capture off; an object with ``available`` False (and the reason
        in ``run.skipped``) when the server offers no source: the scan goes on without root causes."""
        if not getattr(ctx.profile, "capture", True):
            ctx.skipped.append(OFF)
            return None
        self = cls()
        db = ctx.run_db
        try:
            columns = {t: c for t, c in ctx.world.tenant_columns.items() if c}
            self.catalogue = catalogue(db.admin_dsn, columns)  # before the capture: not the app's statements
            self.capture = await StatementCapture.start(_log_server(ctx.server), db.name)
        except Exception as exc:  # no root cause is no reason to stop a scan
            self.reason = f"capture unavailable: {type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
        else:
            self.available, self.method, self.reason = (self.capture.available, self.capture.method,
                                                        self.capture.reason)
            self.capturing = self.available
            # With the log, a take is one constant round trip; rows come from one snapshot at the end.
            self.capture.count_each_take = not self.exact
        if not self.available:
            ctx.skipped.append(f"root cause in SQL: {self.reason}")
        return self

    @property
    def exact(self) -> bool:
        """Statements are read from the server's log: per session, so the harness's own are left out
        exactly. With pg_stat_statements alone they are told apart by when they run (:meth:`settle`)."""
        return "log" in self.method.split("+")

    def ignore(self, conn) -> None:
        """A harness connection to the run database (the change log): its statements are not the app's."""
        if self.capture is not None and self.capturing:
            self.capture.ignore_session(conn.info.backend_pid)

    async def _take(self) -> list[Statement] | None:
        """The statements since the last take; None once the capture has failed (a marker lost in the
        log): the scan goes on without root causes from then on, and says why."""
        try:
            return await self.capture.take()
        except Exception as exc:
            self.capturing = False
            self.reason = "; ".join(filter(None, [self.reason, f"capture stopped during the scan: {exc}"[:300]]))
            return None

    async def discard(self) -> None:
        """Drop what ran since the last take (between phases: logins, the audit's catalogue reads)."""
        if self.capturing:
            await self._take()

    async def settle(self, safe: bool) -> None:
        """After a request's checks: what they ran on the database (the change log after an unsafe
        request) is the harness's. Read from the log, those sessions are ignored already; from
        pg_stat_statements alone, they are taken here and dropped."""
        if self.capturing and not safe and not self.exact:
            await self._take()

    async def stop(self) -> None:
        """The run's own database is done with (the twins that follow are other clones). Idempotent."""
        self.capturing = False
        if self.capture is not None:
            capture, self.capture = self.capture, None
            self.missed_sessions = capture.preexisting_sessions
            try:
                if self.exact and self.available:  # rows per statement, from one snapshot of the counters
                    totals = await capture.totals()
                    for seen in self.statements.values():
                        counted = [totals[(seen.role, q)] for q in seen.queryids if (seen.role, q) in totals]
                        if counted:
                            seen.rows = sum(n for _, n in counted)
                await capture.close()
            except Exception as exc:  # rows unknown, settings left on a database about to be dropped
                self.reason = "; ".join(filter(None, [self.reason, f"capture did not close cleanly: {exc}"[:300]]))

    # -- per request ---------------------------------------------------------------------------------
    async def took(self, subject: str, query: str, p, request: Request, phase: str,
                   via: str = "") -> list[tuple[Distinct, Statement]] | None:
        """The statements of the request (or in-database query run) that just finished, recorded under
        ``subject``; None when nothing is being captured."""
        if not self.capturing:
            return None
        statements = await self._take()
        if statements is None:
            return None
        sub = self.subjects.get(subject)
        if sub is None:
            sub = self.subjects[subject] = Subject(subject, query)
        sub.requests += 1
        sub.via.setdefault(via or subject, None)
        out = []
        for st in statements:
            seen = self._distinct(st)
            seen.calls += st.calls
            seen.queryids.update(st.queryids)
            if st.rows is not None:
                seen.rows = (seen.rows or 0) + st.rows
            if seen.key not in sub.first:
                sub.first[seen.key] = (p.name, p.role, phase, request)
            out.append((seen, st))
        return out

    def _distinct(self, st: Statement) -> Distinct:
        fp = fingerprint(st.text)
        seen = self._by_fp.get((fp, st.role))
        if seen is None:
            key = "SQL-" + hashlib.sha256(f"{fp}|{st.role}".encode()).hexdigest()[:10]
            text = " ".join((st.normalized or st.text).split())
            seen = Distinct(key, text[:INVENTORY_TEXT], st.role, analyze(st.text, self.catalogue, st.role), st.source)
            self._by_fp[(fp, st.role)] = self.statements[key] = seen
        return seen

    # -- findings -----------------------------------------------------------------------------------
    def explain(self, finding: Finding, current: list | None) -> list[dict]:
        """The root cause of a new finding: its own request's unprotected statements (those relying on
        RLS alone when none is unprotected), else its operation's or query's from the inventory."""
        if current is not None:
            causes = [_cause(seen, t, "request", st.rows) for seen, st in current for t in seen.analysis.unprotected]
            if not causes:  # nothing unprotected: a table only RLS guarded in this request (a context gone wrong)
                guarded = {t.table for seen, _ in current for t in seen.analysis.tables if t.verdict == "predicate"}
                causes = [_cause(seen, t, "request", st.rows) for seen, st in current
                          for t in seen.analysis.tables if t.verdict == "rls-only" and t.table not in guarded]
        else:
            label = f"query {finding.query}" if finding.query else finding.operation
            sub = self.subjects.get(label)
            causes = [] if sub is None else [_cause(self.statements[k], t, "inventory") for k in sub.first
                                             for t in self.statements[k].analysis.unprotected]
        table = finding.locus[len("table:"):] if finding.locus.startswith("table:") else ""
        if table and any(c["table"] == table for c in causes):  # a write names the table it changed
            causes = [c for c in causes if c["table"] == table]
        unique = {(c["sql_id"], c["table"]): c for c in causes}
        return list(unique.values())[:MAX_CAUSES]

    def conclude(self, ex) -> None:
        """Add a ``latent`` warning per unprotected statement no finding explains (once, at the end)."""
        if self._concluded or not self.available:
            return
        self._concluded = True
        # A finding explains the statements its root cause names, and the other shapes of the same
        # access (its operation or query, the table, the role): a list's every filter combination is
        # one statement each, and one bug.
        named = {(c.get("sql_id"), c.get("table")) for f in ex.findings.values() for c in f.root_cause}
        accesses = {(f"query {f.query}" if f.query else f.operation, c.get("table"), c.get("role"))
                    for f in ex.findings.values() for c in f.root_cause}
        for seen in self.statements.values():
            ran = [s for s in self.subjects.values() if seen.key in s.first]
            tables = list(dict.fromkeys(
                t.table for t in seen.analysis.unprotected
                if self._policed(t.table) and (seen.key, t.table) not in named
                and not any((s.label, t.table, seen.role) in accesses for s in ran)))
            if not tables:
                continue
            sub = ran[0]
            principal, role, phase, request = sub.first[seen.key]
            locus = f"sql:{seen.key}:{','.join(sorted(tables))}"
            causes = list({t.table: _cause(seen, t, "inventory") for t in seen.analysis.unprotected
                           if t.table in tables}.values())
            verbs = " and ".join(f"{m}s" for m in sorted({t.mode for t in seen.analysis.unprotected}))
            evidence = (f"{seen.role} {verbs} {', '.join(tables)} with no tenant protection ({causes[0]['why']}); "
                        f"first run by {principal} ({request.method} {request.path}): {seen.text}")
            fid = "TH-" + hashlib.sha256(f"latent|{sub.label}|{locus}".encode()).hexdigest()[:10]
            finding = Finding("latent", "sql", phase, sub.label, principal, role, "any tenant", evidence, None,
                              None, ex.seed, locus, id=fid, query=sub.query, severity="warning",
                              root_cause=causes)
            ex.add(finding)
            self.latent.append(fid)

    def _policed(self, table: str) -> bool:
        """Whether the database declares that ``table`` is always read per tenant: RLS on, a policy.

        Only there is a statement escaping both RLS and its own predicate a contradiction of the design
        and so a warning by itself. Without RLS, the app's predicates are the whole design, and a read
        scoped by something else (the caller's own memberships, across its workspaces) cannot be told
        from a missing predicate: the inventory marks it, the finding oracles judge what it returns."""
        facts = self.catalogue.tables.get(table) if self.catalogue is not None else None
        return facts is not None and facts.rls_enabled and facts.has_policy

    # -- the inventory -------------------------------------------------------------------------------
    def document(self) -> dict:
        """``run.sql`` of the findings document: how statements were captured, and the inventory."""
        tables: dict[str, dict[str, int]] = {}
        counts = {"statements": len(self.statements)}
        for seen in self.statements.values():
            counts[seen.analysis.verdict] = counts.get(seen.analysis.verdict, 0) + 1
            for t in seen.analysis.tables:
                row = tables.setdefault(t.table, {"predicate": 0, "rls-only": 0, "unprotected": 0})
                row[t.verdict] += 1
        return {
            "available": self.available, "method": self.method, "reason": self.reason,
            "missed_sessions": self.capture.preexisting_sessions if self.capture else self.missed_sessions,
            "counts": counts,
            "tables": dict(sorted(tables.items())),
            "subjects": [{"subject": s.label, "query": s.query or None, "requests": s.requests, "via": list(s.via),
                          "statements": list(s.first)} for s in self.subjects.values()],
            "statements": [{"id": s.key, "text": s.text, "role": s.role, "verdict": s.analysis.verdict,
                            "error": s.analysis.error, "calls": s.calls, "rows": s.rows, "source": s.source,
                            "tables": [{"table": t.table, "mode": t.mode, "verdict": t.verdict, "rule": t.rule,
                                        "why": t.why} for t in s.analysis.tables]}
                           for s in self.statements.values()],
            "latent": list(self.latent),
        }


def _log_server(server):
    """The embedded server behind ``server`` when this process started it: a campaign given its DSN
    (tests, benches, the pytest plugin) sees a plain server, but the log in this process is readable."""
    if hasattr(server, "log_consumers"):
        return server
    embedded = sys.modules.get("harness.db.embedded")  # not imported: no embedded server in this process
    for candidate in getattr(embedded, "_STARTED", ()):
        if candidate.admin_dsn and _address(candidate.admin_dsn) == _address(server.admin_dsn):
            return candidate
    return server


def _address(dsn: str) -> tuple:
    try:
        info = conninfo_to_dict(dsn)
    except Exception:
        return (dsn,)
    return info.get("host"), str(info.get("port") or 5432)


def excerpt(text: str, table: str, alias: str = "", width: int = CAUSE_TEXT) -> str:
    """``text`` cut to ``width`` around ``table`` (under ``alias`` if it appears so, else its first
    mention): in a 100-line report, the part that reads the unprotected table (a UNION branch, a
    re-join), not the first lines."""
    if len(text) <= width:
        return text
    name = rf'(?:(?<![\w."]){re.escape(table)}(?![\w"])|"{re.escape(table)}")'
    found = (alias and alias != table and re.search(rf'{name}\s+(?:AS\s+)?"?{re.escape(alias)}(?![\w"])', text, re.I)) \
        or re.search(name, text)
    start = max(0, found.start() - width // 4) if found else 0
    start = min(start, len(text) - (width - 2))
    cut = text[start:start + width - 2]
    return ("…" if start else "") + cut + ("…" if start + len(cut) < len(text) else "")


def _cause(seen: Distinct, t, source: str, rows: int | None = None) -> dict:
    text = excerpt(seen.text, t.table, t.alias)
    cause = {"statement": text, "role": seen.role, "table": t.table, "mode": t.mode, "verdict": t.verdict,
             "why": t.why, "sql_id": seen.key, "from": source}
    if rows is not None:
        cause["rows"] = rows
    return cause


def document(ctx) -> dict:
    """``run.sql`` for any run: the inventory, or why there is none."""
    rc = getattr(ctx, "sql", None)
    if rc is not None:
        return rc.document()
    if ctx.opt.base_url:
        reason = LIVE
    elif not getattr(ctx.profile, "capture", True):
        reason = OFF
    else:
        reason = "root cause in SQL: the run stopped before its database existed"
    return {"available": False, "method": "none", "reason": reason.split(": ", 1)[1]}


__all__ = ["LIVE", "OFF", "RootCause", "document"]
