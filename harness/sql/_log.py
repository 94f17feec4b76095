"""Reading the embedded server's statement log: one record per execution, with its parameters.

Fed in the embedded server's stderr drain thread (``EmbeddedPostgres.log_consumers``), so it must
never raise (the thread would die and every backend block on a full pipe) and must be cheap: a line
of another database is dropped after one split. Lines look like (``log_line_prefix`` of
harness/db/embedded.py)::

    @hx|<pid>|<user>|<database>|<query id>| LOG:  execute <unnamed>: SELECT ... $1
    @hx|<pid>|<user>|<database>|<query id>| DETAIL:  parameters: $1 = '...'

and the server indents the continuation lines of a multi-line message with a tab.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

TAG = "@hx|"
#: The prefix the embedded server is started with (``harness.db.embedded.LOG_LINE_PREFIX``, not imported:
#: that module installs signal handlers on import); a log written with another one is not parsed.
EXPECTED_PREFIX = "@hx|%p|%u|%d|%Q| "


@dataclass
class Record:
    """One logged execution (built in the log thread)."""

    pid: int
    user: str
    db: str
    queryid: int
    text: str
    params: tuple[str | None, ...] | None = None


class LogReader:
    """Fed every chunk of the server's stderr (in the embedded server's drain thread).

    It must never raise (the drain thread would die and the server block on a full pipe) and must be
    cheap: lines of other databases are dropped after a prefix split.
    """

    def __init__(self, dbname: str):
        self.dbname = dbname
        self.marker_pid: int | None = None
        self.error: str | None = None
        self._buf = b""
        self._lock = threading.Lock()
        self._records: list[Record] = []
        self._current: list | None = None  # [kind, record-or-None, body parts, pid] of the line being continued
        self._waiters: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}

    def expect(self, token: str, loop: asyncio.AbstractEventLoop, fut: asyncio.Future) -> None:
        with self._lock:
            self._waiters[token] = (loop, fut)

    def forget(self, token: str) -> None:
        with self._lock:
            self._waiters.pop(token, None)

    def __call__(self, chunk: bytes) -> None:
        try:
            self._buf += chunk
            *lines, self._buf = self._buf.split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", errors="replace"))
        except Exception as exc:  # pragma: no cover - a parser bug must not stop the server's log
            self.error = f"{type(exc).__name__}: {exc}"

    def _line(self, line: str) -> None:
        if line.startswith("\t") and self._current is not None:
            self._current[2].append(line[1:])  # the server indents continuation lines with a tab
            return
        self._finish()
        if not line.startswith(TAG):
            return
        parts = line[len(TAG):].split("|", 4)
        if len(parts) != 5:
            return
        pid, user, db, qid, message = parts
        if not pid.isdigit():
            return
        message = message.lstrip()
        if int(pid) == self.marker_pid:
            self._marker(message)
            return
        if db != self.dbname:
            return
        if message.startswith("LOG:  statement: "):
            body = message[len("LOG:  statement: "):]
        elif message.startswith("LOG:  execute "):
            body = message[len("LOG:  execute "):].partition(": ")[2]
        elif message.startswith("DETAIL:  parameters: "):
            self._current = ["params", None, [message[len("DETAIL:  parameters: "):]], int(pid)]
            return
        else:
            return
        record = Record(int(pid), user, db, int(qid) if qid.lstrip("-").isdigit() else 0, "")
        self._current = ["text", record, [body], record.pid]

    def _finish(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        kind, record, parts, _ = current
        body = "\n".join(parts)
        with self._lock:
            if kind == "text":
                record.text = body
                self._records.append(record)
            else:  # the DETAIL line follows its LOG line in the same write; match the backend anyway
                pid = current[3]
                for record in reversed(self._records):
                    if record.pid == pid:
                        record.params = parse_parameters(body)
                        break

    def _marker(self, message: str) -> None:
        with self._lock:
            for token, (loop, fut) in list(self._waiters.items()):
                if token in message:
                    del self._waiters[token]
                    records, self._records = self._records, []
                    loop.call_soon_threadsafe(_resolve, fut, records)


def _resolve(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def parse_parameters(detail: str) -> tuple[str | None, ...]:
    """``$1 = '1', $2 = NULL, $3 = 'it''s'`` (the server's DETAIL line) -> ``('1', None, "it's")``."""
    values: list[str | None] = []
    i, n = 0, len(detail)
    while i < n:
        eq = detail.find(" = ", i)
        if eq < 0:
            break
        i = eq + 3
        if detail.startswith("NULL", i):
            values.append(None)
            i += 4
        elif i < n and detail[i] == "'":
            out, i = [], i + 1
            while i < n:
                if detail[i] == "'":
                    if detail.startswith("''", i):
                        out.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                out.append(detail[i])
                i += 1
            values.append("".join(out))
        else:
            break
        i = detail.find("$", i)
        if i < 0:
            break
    return tuple(values)
