"""Time bounds: each request's timeout, each phase's deadline, the whole scan's deadline.

In-process, ``httpx.ASGITransport`` ignores httpx timeouts (the app runs in the scan's own event loop),
so every send is bounded here: the request runs as a task that is abandoned, not awaited, once its
time is up. A handler blocked in a worker thread cannot be stopped, only left behind, so the event
loop that ran the scan is closed without waiting for such stragglers (:func:`run`). A request never
waits past the phase's or the scan's deadline; at a deadline the scan stops sending
(:class:`OutOfTime`) and writes what it has, marked incomplete.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable


class OutOfTime(Exception):
    """A deadline passed: ``scope`` is ``"phase"`` (the next phase may run) or ``"scan"`` (stop)."""

    def __init__(self, reason: str, scope: str):
        super().__init__(reason)
        self.scope = scope


class RequestTimeout(Exception):
    """One request got no answer within its time."""


class Budget:
    """The run's clock. ``None`` for a bound means unbounded."""

    def __init__(self, request_timeout: float | None = None, deadline: float | None = None,
                 phase_deadline: float | None = None, started: float | None = None):
        self.request = request_timeout
        self.deadline = deadline
        self.phase_deadline = phase_deadline
        self.started = time.monotonic() if started is None else started
        self.scan_at = self.started + deadline if deadline else None
        self.phase_at: float | None = None
        self.phase: str | None = None
        self._phase_started = 0.0
        #: Seconds each phase took (for the findings document, and to see how xdist shares balance).
        self.spent: dict[str, float] = {}

    def start_phase(self, name: str) -> None:
        self.phase = name
        self._phase_started = time.monotonic()
        self.phase_at = self._phase_started + self.phase_deadline if self.phase_deadline else None

    def end_phase(self) -> None:
        if self.phase:
            self.spent[self.phase] = round(self.spent.get(self.phase, 0) + time.monotonic() - self._phase_started, 2)
        self.phase = self.phase_at = None

    def check(self) -> None:
        """Raise :class:`OutOfTime` if the scan's or the current phase's deadline has passed."""
        now = time.monotonic()
        where = f" during phase {self.phase}" if self.phase else ""
        if self.scan_at is not None and now >= self.scan_at:
            raise OutOfTime(f"the scan's deadline of {self.deadline:g} s passed{where}", "scan")
        if self.phase_at is not None and now >= self.phase_at:
            raise OutOfTime(f"phase {self.phase} stopped at its deadline of {self.phase_deadline:g} s", "phase")

    def request_timeout(self) -> float | None:
        """How long the next request may take: its own timeout, never past a deadline."""
        now = time.monotonic()
        bounds = [b - now for b in (self.scan_at, self.phase_at) if b is not None]
        if self.request:
            bounds.append(self.request)
        return max(0.001, min(bounds)) if bounds else None


_ABANDONED: set[asyncio.Task] = set()


async def bounded(awaitable: Awaitable, timeout: float | None):
    """``await awaitable``, but give up after ``timeout`` seconds (:class:`RequestTimeout`).

    Unlike ``asyncio.wait_for``, a request that does not end when cancelled (a handler sleeping in a
    worker thread) is left behind instead of waited for: the scan moves on at once.
    """
    if timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    _ABANDONED.add(task)
    task.add_done_callback(_ABANDONED.discard)
    raise RequestTimeout(f"no answer within {timeout:g} s")


def run(main: Awaitable, grace: float = 2.0):
    """``asyncio.run(main)``, except that tasks still pending at the end (requests abandoned in a
    worker thread) get ``grace`` seconds after cancellation and are then left behind, not awaited."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=grace))
            for task in pending:
                if not task.done():
                    task._log_destroy_pending = False  # abandoned on purpose: no warning at exit
                elif not task.cancelled():
                    # Unwinding after an interruption: what a cancelled task's cleanup raised (an app's
                    # shutdown cut short) is a consequence, not news; retrieving it keeps stderr one line.
                    task.exception()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(_shutdown_executor(loop, grace))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _shutdown_executor(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    try:
        await asyncio.wait_for(loop.shutdown_default_executor(), grace)
    except (asyncio.TimeoutError, RuntimeError):
        pass
