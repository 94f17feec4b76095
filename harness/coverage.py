"""Coverage as an assertion: every operation × principal reaches a 2xx (or is declared forbidden),
every query returns rows for at least one principal. Otherwise the run fails and says why."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Cell:
    requests: int = 0
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)


class Coverage:
    def __init__(self, operations: list[str], principals: list[str], forbidden: set[tuple[str, str]]):
        self.operations = operations
        self.principals = principals
        self.forbidden = forbidden
        self.cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
        self.queries: dict[tuple[str, str], list[int]] = {}  # (query, principal) -> [runs, rows]
        self.query_names: list[str] = []
        #: (query, principal) pairs the scenario does not let that principal's role run.
        self.query_forbidden: set[tuple[str, str]] = set()

    def record(self, operation: str, principal: str, status: int) -> None:
        cell = self.cells[(operation, principal)]
        cell.requests += 1
        cell.statuses[status] += 1
        if 200 <= status < 300:
            cell.ok += 1

    def record_query(self, query: str, principal: str, rows: int) -> None:
        entry = self.queries.setdefault((query, principal), [0, 0])
        entry[0] += 1
        entry[1] += rows

    def status(self, operation: str, principal: str) -> tuple[str, str | None]:
        cell = self.cells.get((operation, principal), Cell())
        if (operation, principal) in self.forbidden:
            return "forbidden", None
        if cell.ok:
            return "covered", None
        if not cell.requests:
            return "uncovered", "never sent"
        seen = ", ".join(f"{s}×{n}" for s, n in sorted(cell.statuses.items()))
        hint = ""
        if set(cell.statuses) <= {401}:
            hint = " (authentication failed: check the principal's credentials)"
        elif set(cell.statuses) <= {422, 400}:
            hint = " (every request was rejected as invalid: the generator cannot build a valid request)"
        elif set(cell.statuses) <= {404}:
            hint = " (every id was unknown: no id of the principal's own fits this operation)"
        return "uncovered", f"no 2xx in {cell.requests} requests: {seen}{hint}"

    def operation_rows(self) -> list[dict]:
        rows = []
        for op in self.operations:
            for p in self.principals:
                cell = self.cells.get((op, p), Cell())
                status, reason = self.status(op, p)
                rows.append({"operation": op, "principal": p, "requests": cell.requests, "ok": cell.ok,
                             "statuses": {str(k): v for k, v in sorted(cell.statuses.items())},
                             "status": status, "reason": reason})
        return rows

    def query_rows(self) -> list[dict]:
        """Every query × principal. A pair that ran but returned no rows is ``empty``, not uncovered:
        the gate is per query (rows for at least one principal), see :meth:`problems`."""
        rows = []
        for query in self.query_names:
            for principal in self.principals:
                runs, nrows = self.queries.get((query, principal), (0, 0))
                if (query, principal) in self.query_forbidden:
                    status, reason = "forbidden", None
                elif nrows:
                    status, reason = "covered", None
                elif runs:
                    status, reason = "empty", f"no rows in {runs} runs"
                else:
                    status, reason = "uncovered", "never ran (every parameter set was rejected?)"
                rows.append({"query": query, "principal": principal, "runs": runs, "rows": nrows,
                             "status": status, "reason": reason})
        return rows

    def problems(self) -> list[str]:
        out = [f"{op} as {p}: {self.status(op, p)[1]}" for op in self.operations for p in self.principals
               if self.status(op, p)[0] == "uncovered"]
        for name in self.query_names:
            runs = [v for (q, _), v in self.queries.items() if q == name]
            if not runs:
                out.append(f"query {name}: never run (no principal may run it?)")
            elif not any(rows for _, rows in runs):
                out.append(f"query {name}: returned no rows for any principal in {sum(r for r, _ in runs)} runs")
        return out

    def covered_queries(self) -> int:
        return sum(1 for name in self.query_names
                   if any(rows for (q, _), (_, rows) in self.queries.items() if q == name))
