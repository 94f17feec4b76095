"""Coverage as an assertion: what the spec promises on success, and which pairs got it.

A pair (operation × principal) is covered only by a response the spec promises: a status the operation
declares as a success (2xx, or a declared 3xx such as a lookup that redirects by design) whose body is
of the declared media type. An HTML 200 from a single-page app's fallback does not cover a JSON
operation, and neither does an empty 200 where JSON is declared: a pass built on those would be
vacuous. Every response that misses the promise is counted with its reason ("200 text/html where the
spec promises application/json ×12"), and so is every request that timed out. The recorder only
counts; :mod:`harness.model` turns the counts into statuses and verdicts (so that partial runs, e.g.
xdist workers, can be merged and judged once).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

TIMEOUT = "timeout"
JSON_TYPES = ("application/json",)
#: Bodies larger than this are not parsed to judge coverage (memory stays a small multiple of the body).
PARSE_LIMIT = 1 << 20
JSON_STARTS = tuple(bytes([c]) for c in b'{["-0123456789tfn')
#: ``Coverage.record``'s default: judge by the status alone (any 2xx), for callers without a response.
BY_STATUS = object()


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in JSON_TYPES or media.endswith("+json")


@dataclass(frozen=True)
class Promise:
    """What one operation's spec declares as success: statuses and, per status, the media types."""

    #: Declared success statuses (2xx, 3xx) -> media types (empty: no content declared).
    statuses: dict = field(default_factory=dict)
    #: Declared ranges ("2XX" -> 2) -> media types.
    ranges: dict = field(default_factory=dict)

    def media_for(self, status: int) -> tuple[str, ...] | None:
        """The media types promised with ``status``, or None when the status is not a promised success."""
        if status in self.statuses:
            return self.statuses[status]
        if status // 100 in self.ranges:
            return self.ranges[status // 100]
        if not self.statuses and not self.ranges and 200 <= status < 300:
            return ()  # the spec declares no success response at all: any 2xx, any body
        return None

    def describe_statuses(self) -> str:
        declared = [str(s) for s in sorted(self.statuses)] + [f"{r}XX" for r in sorted(self.ranges)]
        return "/".join(declared) or "2xx"

    def judge(self, status: int, content_type: str | None, body: bytes | None, check_body: bool = True) -> str | None:
        """None when the response keeps the promise, else why not (a short, countable reason)."""
        media = self.media_for(status)
        if media is None:
            return f"{status} where the spec promises {self.describe_statuses()}" if 200 <= status < 400 else ""
        if not media:
            return None
        got = _media(content_type)
        promised = " or ".join(media)
        if not got:
            if not body:
                return f"{status} empty body where the spec promises {promised}"
            return f"{status} without Content-Type where the spec promises {promised}"
        if not any(_media_matches(m, got) for m in media):
            return f"{status} {got} where the spec promises {promised}"
        if check_body and _is_json(got):
            if not body or not body.strip():
                return f"{status} empty body where the spec promises {promised}"
            if len(body) > PARSE_LIMIT:  # a huge body: its first character must open a JSON value
                if body[:256].lstrip()[:1] not in JSON_STARTS:
                    return f"{status} {got} body that is not JSON where the spec promises {promised}"
                return None
            try:
                json.loads(body)
            except ValueError:
                return f"{status} {got} body that is not JSON where the spec promises {promised}"
        return None


def _media_matches(declared: str, got: str) -> bool:
    declared = _media(declared)
    if declared in ("*/*", got):
        return True
    if declared.endswith("/*"):
        return got.split("/", 1)[0] == declared[:-2]
    return False


def promises_from_spec(spec: dict) -> dict[str, Promise]:
    """``"METHOD /path"`` -> :class:`Promise`, read from the OpenAPI document's responses."""
    out: dict[str, Promise] = {}
    components = (spec.get("components") or {}).get("responses") or {}
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, op in item.items():
            if method.lower() not in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
                continue
            statuses, ranges = {}, {}
            for code, response in ((op or {}).get("responses") or {}).items():
                if isinstance(response, dict) and "$ref" in response:
                    response = components.get(str(response["$ref"]).rsplit("/", 1)[-1], {})
                content = tuple(str(m) for m in ((response or {}).get("content") or {}))
                code = str(code).upper()
                if code.isdigit() and 200 <= int(code) < 400:
                    statuses[int(code)] = content
                elif code in ("2XX", "3XX"):
                    ranges[int(code[0])] = content
            out[f"{method.upper()} {path}"] = Promise(statuses, ranges)
    return out


@dataclass
class Cell:
    requests: int = 0
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    #: Why responses did not count (the promise they missed, "timeout").
    reasons: Counter = field(default_factory=Counter)


class Coverage:
    """Counts, per operation × principal and query × principal, what the run got."""

    def __init__(self, operations: list[str], principals: list[str], forbidden: set[tuple[str, str]],
                 promises: dict[str, Promise] | None = None):
        self.operations = operations
        self.principals = principals
        self.forbidden = forbidden
        self.promises = promises or {}
        self.cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
        self.queries: dict[tuple[str, str], list[int]] = {}  # (query, principal) -> [runs, rows]
        self.query_names: list[str] = []
        #: (query, principal) pairs the scenario does not let that principal's role run.
        self.query_forbidden: set[tuple[str, str]] = set()

    def record(self, operation: str, principal: str, status: int, reason=BY_STATUS) -> None:
        """One response: ``reason`` is None when it kept the spec's promise of success, "" for a plain
        failure status, else the promise it missed; by default any 2xx counts."""
        if reason is BY_STATUS:
            reason = None if 200 <= status < 300 else ""
        cell = self.cells[(operation, principal)]
        cell.requests += 1
        cell.statuses[status] += 1
        if reason is None:
            cell.ok += 1
        elif reason:
            cell.reasons[reason] += 1

    def observe(self, operation: str, principal: str, response) -> bool:
        """Record an httpx response against the operation's promise; True when it kept it."""
        status = response.status_code
        promise = self.promises.get(operation)
        if promise is None:
            reason = None if 200 <= status < 300 else ""
        else:
            cell = self.cells.get((operation, principal))
            # Parsing every body is the hot path's cost; once the pair is covered, status and type suffice.
            check_body = cell is None or not cell.ok
            body = response.content if check_body and response.request.method != "HEAD" else b"x"
            reason = promise.judge(status, response.headers.get("content-type"), body, check_body)
        self.record(operation, principal, status, reason)
        return reason is None

    def record_unsent(self, operation: str, principal: str, why: str) -> None:
        """A request the scan chose not to send (say, to an operation that keeps timing out)."""
        self.cells[(operation, principal)].reasons[why] += 1

    def record_timeout(self, operation: str, principal: str) -> None:
        cell = self.cells[(operation, principal)]
        cell.requests += 1
        cell.statuses[TIMEOUT] += 1

    def record_query(self, query: str, principal: str, rows: int) -> None:
        entry = self.queries.setdefault((query, principal), [0, 0])
        entry[0] += 1
        entry[1] += rows

    # -- raw rows, for the run model -------------------------------------------------------------------
    def operation_rows(self) -> list[dict]:
        rows = []
        for op in self.operations:
            for p in self.principals:
                cell = self.cells.get((op, p), Cell())
                rows.append({"operation": op, "principal": p, "requests": cell.requests, "ok": cell.ok,
                             "statuses": {str(k): v for k, v in sorted(cell.statuses.items(), key=lambda kv: str(kv[0]))},
                             "reasons": dict(sorted(cell.reasons.items())),
                             "forbidden": (op, p) in self.forbidden})
        return rows

    def query_rows(self) -> list[dict]:
        rows = []
        for query in self.query_names:
            for principal in self.principals:
                runs, nrows = self.queries.get((query, principal), (0, 0))
                rows.append({"query": query, "principal": principal, "runs": runs, "rows": nrows,
                             "forbidden": (query, principal) in self.query_forbidden})
        return rows
