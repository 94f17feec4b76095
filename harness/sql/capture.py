"""Which statements the app ran while serving one request, as which role, touching how many rows.

Captured on the server, not in the driver: the app may use psycopg, asyncpg or an ORM, and only the
server knows the role a statement really ran as. The harness sends in-process requests one at a time,
so the statements between two :meth:`StatementCapture.take` calls are exactly one request's.

Two server-side sources, used together when both are there (``tests/sql/bench_capture.py`` measures
them):

- **The statement log** (embedded server only: the harness owns its stderr). ``log_statement = 'all'``
  is set for the one captured database (``ALTER DATABASE``), so other databases of the run (twins,
  clones) log nothing; the server's ``log_line_prefix`` carries pid, user, database and query id. It
  gives the exact text as the app sent it, the bound parameters (psycopg binds server-side: ``$1`` in
  the text, values in the ``DETAIL`` line), the order, and the login role.
- **pg_stat_statements** (loaded at server start): calls and rows per (role, query id), the role being
  the one the statement ran as (after ``SET ROLE``). Its snapshot scans every entry of the server
  (about 5 ms at 3,000 entries), so the embedded server starts it with tracking off and a capture turns
  tracking on for its one database. On a server given by DSN it is the only source (when loaded
  there), and texts are then normalized (constants become ``$n``).

Both are switched on with ``ALTER DATABASE``, which reaches sessions opened *after* :meth:`start`:
start the capture before the app opens its pool (``preexisting_sessions`` counts those it will miss).

``take()`` sends a single statement that is at once the barrier in the log (every line the app's
backends wrote before it is in the pipe before it) and the pg_stat_statements snapshot, so a request
costs one round trip plus the log lines it produced. Log lines and counters are joined on the query
id (extended protocol) or, for simple-protocol statements (no id in the log), on the pglast
fingerprint of the text.

Limits: work the app does in the background after answering (a pool resetting a returned connection)
lands in the next take; statements inside functions are not listed (top level only, like the log);
the log runs through a pipe, so with several backends writing at once a statement longer than the
pipe's atomic write (4 KiB) could interleave with another line (one request at a time makes this rare).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import defaultdict
from dataclasses import dataclass

import psycopg
from psycopg import sql

from harness.db.server import DatabaseServer, redact
from harness.sql._log import EXPECTED_PREFIX, LogReader, Record, parse_parameters
from harness.sql.analysis import fingerprint, normalize

#: How long take() waits for its own marker to come through the server's stderr.
MARK_TIMEOUT = 10.0


@dataclass(frozen=True)
class Statement:
    """One distinct statement of a request: ``calls`` executions by ``role``.

    ``text`` is the first execution's exact text (``$n`` placeholders, the values in ``params``) when
    it came from the log, else pg_stat_statements' normalized text; ``rows`` is what the server counted
    (returned or affected), None when pg_stat_statements is not loaded.
    """

    text: str
    normalized: str
    role: str
    rows: int | None
    calls: int
    params: tuple[str | None, ...] | None = None
    source: str = "log"  # "log" | "pg_stat_statements"
    #: pg_stat_statements' query ids of the executions (from the log prefix, or the counters), for
    #: :meth:`StatementCapture.totals`.
    queryids: tuple[int, ...] = ()


class StatementCapture:
    """Start with :meth:`start`, call :meth:`take` after each request, :meth:`close` at the end.

    ``available`` is False (and ``reason`` says why) when the server offers no source; ``take()``
    then returns an empty list, so callers must check ``available`` rather than trust an empty take.
    """

    _ids = itertools.count(1)

    def __init__(self, dbname: str):
        self.dbname = dbname
        self.available = False
        self.reason = ""
        self.method = "none"
        #: Sessions already connected to the database at start: the log misses them (ALTER DATABASE).
        self.preexisting_sessions = 0
        #: Snapshot pg_stat_statements at every take (rows per take). False, with the log on, makes a
        #: take one round trip of a constant statement; :meth:`totals` then gives rows per statement
        #: for the whole capture, in one snapshot (a scan's price, measured in ``make bench``).
        self.count_each_take = True
        self._server = None
        self._reader: LogReader | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._admin_dsn = ""
        self._pgss: sql.Composable | None = None  # the qualified pg_stat_statements function
        self._dboid = 0
        self._last: dict[tuple[int, int], tuple[int, int]] = {}
        self._first: dict[tuple[int, int], tuple[int, int]] = {}  # the counters at start (for totals)
        self._roles: dict[int, str] = {}
        self._texts: dict[int, str] = {}
        self._marks = itertools.count(1)
        self._closed = False
        self._resets: list[str] = []  # database settings start() made, undone by close()
        self._ignored: set[int] = set()  # backend pids whose statements are not the app's (ignore_session)
        self._id = f"{next(self._ids)}{secrets.token_hex(4)}"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def start(cls, server: DatabaseServer | str, dbname: str, *, log: bool = True,
                    counters: bool = True) -> "StatementCapture":
        """Capture statements run in ``dbname`` from now on.

        ``server`` is the run's :class:`DatabaseServer` (the embedded one gives the log) or a superuser
        DSN. ``log``/``counters`` switch the two sources off (for measurements and tests).
        """
        self = cls(dbname)
        self._server = server if isinstance(server, DatabaseServer) else None
        self._admin_dsn = server.admin_dsn if isinstance(server, DatabaseServer) else server
        try:
            self._conn = await psycopg.AsyncConnection.connect(self._admin_dsn, autocommit=True,
                                                               connect_timeout=5)
        except psycopg.OperationalError as exc:
            self.reason = f"capture unavailable: cannot connect to {redact(self._admin_dsn)}: {' '.join(str(exc).split())}"
            return self
        conn = self._conn
        row = await (await conn.execute(
            "SELECT d.oid, r.rolsuper, current_setting('log_line_prefix'), "
            "current_setting('shared_preload_libraries') FROM pg_database d, pg_roles r "
            "WHERE d.datname = %s AND r.rolname = current_user", [dbname])).fetchone()
        if row is None:
            self.reason = f"capture unavailable: no database {dbname!r}"
            await self._close_conn()
            return self
        self._dboid, superuser, prefix, preload = row
        sources, why = [], []
        if counters:
            problem = await self._init_counters(preload)
            if problem:
                why.append(problem)
            else:
                sources.append("pg_stat_statements")
        if log:
            problem = await self._init_log(superuser, prefix)
            if problem:
                why.append(problem)
            else:
                sources.append("log")
        if not sources:
            self.reason = "capture unavailable: " + "; ".join(why or ["both sources switched off"])
            await self._close_conn()
            return self
        self.available, self.method = True, "+".join(sorted(sources, reverse=True))
        self.reason = "; ".join(why)
        await self.take()  # the baseline: statements before start() are not the first request's
        self._first = dict(self._last)
        return self

    async def _init_counters(self, preload: str) -> str:
        if "pg_stat_statements" not in [p.strip().strip('"').rsplit("/", 1)[-1] for p in preload.split(",")]:
            return "pg_stat_statements is not in shared_preload_libraries (it must be loaded at server start)"
        conn = self._conn
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except psycopg.Error as exc:
            return f"CREATE EXTENSION pg_stat_statements failed: {' '.join(str(exc).split())}"
        schema = (await (await conn.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_stat_statements'")).fetchone())[0]
        self._pgss = sql.SQL("{}.pg_stat_statements").format(sql.Identifier(schema))
        track = (await (await conn.execute("SELECT current_setting('pg_stat_statements.track', true)")).fetchone())[0]
        if track == "none":  # the embedded server tracks nothing by default: every snapshot scans all entries
            try:
                await conn.execute(sql.SQL("ALTER DATABASE {} SET pg_stat_statements.track = 'top'").format(
                    sql.Identifier(self.dbname)))
            except psycopg.Error as exc:
                self._pgss = None
                return f"pg_stat_statements.track is 'none' and cannot be set for {self.dbname}: {' '.join(str(exc).split())}"
            self._resets.append("pg_stat_statements.track")
        return ""

    async def _init_log(self, superuser: bool, prefix: str) -> str:
        consumers = getattr(self._server, "log_consumers", None)
        if consumers is None:
            return "the statement log is only read on the embedded server (its stderr is the harness's)"
        if prefix != EXPECTED_PREFIX:
            return f"the server's log_line_prefix is {prefix!r}, not the embedded server's {EXPECTED_PREFIX!r}"
        if not superuser:
            return "setting log_statement needs a superuser connection"
        conn = self._conn
        await conn.execute("SET log_statement = 'all'")  # this session: the markers must be logged
        await conn.execute(sql.SQL("ALTER DATABASE {} SET log_statement = 'all'").format(sql.Identifier(self.dbname)))
        self._resets.append("log_statement")
        self.preexisting_sessions = (await (await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.dbname])).fetchone())[0]
        self._reader = LogReader(self.dbname)
        self._reader.marker_pid = conn.info.backend_pid
        consumers.append(self._reader)
        return ""

    async def close(self) -> None:
        """Switch the database's logging and tracking back off and let go of the log. Idempotent."""
        if self._reader is not None:
            consumers = getattr(self._server, "log_consumers", [])
            if self._reader in consumers:
                consumers.remove(self._reader)
            self._reader = None
        if self._conn is not None and not self._conn.closed:
            for setting in self._resets:
                await self._conn.execute(sql.SQL("ALTER DATABASE {} RESET {}").format(
                    sql.Identifier(self.dbname), sql.SQL(setting)))  # our own constant names
        self._resets = []
        await self._close_conn()
        self._closed = True

    async def _close_conn(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> "StatementCapture":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def ignore_session(self, pid: int) -> None:
        """Leave out the statements of backend ``pid`` (the caller's own connection to the database).

        Their counters are still matched (and dropped), so they do not come back as counter-only
        statements; with pg_stat_statements alone there is no pid to tell them apart."""
        self._ignored.add(pid)

    # ------------------------------------------------------------------ taking
    async def take(self) -> list[Statement]:
        """The statements run in the database since the previous take, in first-execution order."""
        if self._closed:
            raise RuntimeError("statement capture: take() after close()")
        if not self.available:
            return []
        token = f"hx-mark-{self._id}-{next(self._marks)}"
        fut = None
        if self._reader is not None:
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            self._reader.expect(token, loop, fut)
        counting = self._pgss is not None and (self.count_each_take or self._reader is None)
        if counting:
            query = self._snapshot(token)
        else:
            query = sql.SQL("SELECT {}::text AS mark").format(sql.Literal(token))
        rows = await (await self._conn.execute(query)).fetchall()
        records: list[Record] = []
        if fut is not None:
            try:
                records = await asyncio.wait_for(fut, MARK_TIMEOUT)
            except asyncio.TimeoutError:
                self._reader.forget(token)
                raise RuntimeError(f"statement capture: marker {token} not seen in the server log within "
                                   f"{MARK_TIMEOUT}s ({self._reader.error or 'no parser error'})") from None
        deltas = self._deltas(rows) if counting else {}
        return await self._merge(records, deltas)

    def _snapshot(self, token: str = "") -> sql.Composable:
        return sql.SQL("SELECT {}::text AS mark, userid::bigint, queryid, sum(calls)::bigint, "
                       "sum(rows)::bigint FROM {}(false) WHERE dbid = {} GROUP BY userid, queryid").format(
            sql.Literal(token), self._pgss, sql.Literal(self._dboid))

    def _deltas(self, rows) -> dict[tuple[int, int], tuple[int, int]]:
        now = {(r[1], r[2]): (r[3], r[4]) for r in rows if r[2] is not None}
        out = {}
        for key, (calls, n) in now.items():
            c0, r0 = self._last.get(key, (0, 0))
            if calls > c0:
                out[key] = (calls - c0, n - r0)
        self._last = now
        return out

    async def totals(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(role, query id) -> (calls, rows) since :meth:`start`, from one pg_stat_statements snapshot
        (empty without it). With ``count_each_take`` off, this is where rows come from."""
        if self._closed or not self.available or self._pgss is None:
            return {}
        rows = await (await self._conn.execute(self._snapshot())).fetchall()
        await self._learn_roles({r[1] for r in rows})
        out = {}
        for _, uid, qid, calls, n in rows:
            if qid is None:
                continue
            c0, r0 = self._first.get((uid, qid), (0, 0))
            if calls > c0:
                out[(self._roles.get(uid, str(uid)), qid)] = (calls - c0, n - r0)
        return out

    async def _merge(self, records: list[Record], deltas: dict) -> list[Statement]:
        """Group log records by (user, fingerprint); give each its counters; add counter-only statements."""
        groups: dict[tuple[str, str, bool], dict] = {}
        for rec in records:
            ignored = rec.pid in self._ignored
            g = groups.setdefault((rec.user, fingerprint(rec.text), ignored), {
                "text": rec.text, "params": rec.params, "user": rec.user, "calls": 0, "qids": set(),
                "ignored": ignored})
            g["calls"] += 1
            if rec.queryid:
                g["qids"].add(rec.queryid)
        await self._learn_roles({uid for uid, _ in deltas})
        left = dict(deltas)
        unmatched = []
        for g in groups.values():
            keys = [k for k in left if k[1] in g["qids"]]
            if keys:
                self._claim(g, keys, left)
            else:
                unmatched.append(g)
        if unmatched and left:  # simple-protocol statements carry no query id in the log
            await self._learn_texts([qid for _, qid in left])
            by_fp = defaultdict(list)
            for key in left:
                by_fp[fingerprint(self._texts.get(key[1], ""))].append(key)
            for g in unmatched:
                keys = [k for k in by_fp.get(fingerprint(g["text"]), []) if k in left]
                if keys:
                    self._claim(g, keys, left)
        out = [Statement(g["text"], normalize(g["text"]), g.get("role", g["user"]), g.get("rows"),
                         g["calls"], g["params"], "log", tuple(sorted(g["qids"])))
               for g in groups.values() if not g["ignored"]]
        if left:
            await self._learn_texts([qid for _, qid in left])
            for (uid, qid), (calls, n) in left.items():
                text = self._texts.get(qid, "")
                out.append(Statement(text, normalize(text), self._roles.get(uid, str(uid)), n, calls,
                                     None, "pg_stat_statements", (qid,)))
        return out

    def _claim(self, group: dict, keys: list, left: dict) -> None:
        same_user = [k for k in keys if self._roles.get(k[0]) == group["user"]]
        keys = same_user or keys
        group["rows"] = sum(left[k][1] for k in keys)
        roles = {self._roles.get(k[0], group["user"]) for k in keys}
        if len(roles) == 1:
            group["role"] = roles.pop()  # the role it ran as (after SET ROLE), not the login
        for k in keys:
            del left[k]

    async def _learn_roles(self, uids) -> None:
        missing = [u for u in uids if u not in self._roles]
        if missing:
            rows = await (await self._conn.execute(
                "SELECT oid::bigint, rolname FROM pg_roles WHERE oid::bigint = ANY(%s)", [missing])).fetchall()
            self._roles.update(dict(rows))

    async def _learn_texts(self, qids) -> None:
        missing = [q for q in qids if q not in self._texts]
        if missing and self._pgss is not None:
            rows = await (await self._conn.execute(sql.SQL(
                "SELECT DISTINCT ON (queryid) queryid, query FROM {}(true) WHERE dbid = %s AND queryid = ANY(%s)"
            ).format(self._pgss), [self._dboid, missing])).fetchall()
            self._texts.update(dict(rows))


__all__ = ["Statement", "StatementCapture", "parse_parameters"]
