"""Progress of a long phase: operations done of total, findings so far, requests per second.

A scan of a big app takes minutes per phase; a reviewer watching it (or a CI log) must see that it
moves and whether it already found something. On a terminal the line is redrawn in place; elsewhere
(a CI log, pytest's own output) a line is written at every quarter, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


class Progress:
    def __init__(self, write: Callable[[str], None] | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.write = write
        self.tty = sys.stderr.isatty() if tty is None and write is None else bool(tty)
        self.clock = clock
        self.phase, self.total, self.started, self.requests0 = "", 0, 0.0, 0
        self._quarter = 0

    def start(self, phase: str, total: int, requests: int) -> None:
        self.phase, self.total, self.started, self.requests0, self._quarter = phase, total, self.clock(), requests, 0

    def line(self, done: int, findings: int, requests: int) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = (requests - self.requests0) / elapsed
        width = 20
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        return (f"[harness] {self.phase:<15} [{bar}] {done}/{self.total} operations, "
                f"{findings} finding{'' if findings == 1 else 's'}, {rate:.0f} req/s")

    def step(self, done: int, findings: int, requests: int) -> None:
        if not self.total:
            return
        text = self.line(done, findings, requests)
        if self.tty and self.write is None:
            sys.stderr.write("\r" + text + ("\n" if done >= self.total else ""))
            sys.stderr.flush()
            return
        quarter = 4 * done // self.total
        if quarter > self._quarter and done < self.total:
            self._quarter = quarter
            (self.write or (lambda s: print(s, file=sys.stderr, flush=True)))(text)
