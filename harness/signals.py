"""SIGTERM and SIGINT, handled in one place for the whole process.

Why: a run creates databases (on a server that may outlive it) and may start a PostgreSQL cluster;
``finally:`` blocks and ``atexit`` remove them. Python runs neither when SIGTERM kills the process with
its default action, so :func:`install` turns SIGTERM and SIGINT into :class:`Interrupted`, raised in
the main thread. It subclasses ``KeyboardInterrupt`` on purpose: ``except Exception`` does not swallow
it, pytest (which runs the campaign while collecting) stops the session cleanly instead of reporting an
internal error, and psycopg cancels the query in flight. It is also a ``SystemExit`` with code
128 + signum, so a script that does not catch it ends silently with the conventional 143 (SIGTERM) or
130 (SIGINT) once its cleanup has run. The signal is recorded (:func:`received`), so ``tenant-harness``
exits 143/130 with one line on stderr even where a library converted the exception on the way up
(pytest returns "interrupted", exit 2).

Cleanup that must not be cut in half (creating-and-registering or dropping a database, stopping the
server) runs inside :func:`deferred`: a signal arriving there is held and raised when the block ends.

Hook for partial results: :func:`on_interrupt` registers ``callback(signum)``; callbacks run once, after
the stack has unwound (databases dropped, server stopped), from :func:`report` (the CLI calls it) or at
exit if nothing called it. Code that only needs to know can ask :func:`received`.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator

PROG = "tenant-harness"

_received: int | None = None  # the first signal of the run
_pending: int | None = None  # held by a deferred() block
_depth = 0
_callbacks: list[Callable[[int], object]] = []
_callbacks_ran = False


class Interrupted(KeyboardInterrupt, SystemExit):
    """SIGTERM or SIGINT arrived; ``signum`` says which, ``exit_code`` (and ``code``) is 128 + signum."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(f"interrupted ({self.name})")
        self.code = self.exit_code  # what the interpreter exits with if nobody catches it

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __reduce__(self):
        return (type(self), (self.signum,))


def install() -> bool:
    """Handle SIGTERM and SIGINT from now on; idempotent, cheap, main thread only (else False).

    Only a handler still at Python's default is replaced (SIGTERM's ``SIG_DFL``, SIGINT's
    ``default_int_handler``): a handler someone installed on purpose, or an ignored SIGINT (a
    background job), is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    defaults = {signal.SIGTERM: (signal.SIG_DFL, None), signal.SIGINT: (signal.default_int_handler,)}
    for signum, default in defaults.items():
        if signal.getsignal(signum) in default:
            signal.signal(signum, _handle)
    return True


def _handle(signum: int, frame) -> None:
    global _received, _pending
    if _received is None:
        _received = signum
    if _depth:
        _pending = _pending or signum
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def deferred(reraise: bool = True) -> Iterator[None]:
    """Hold SIGTERM/SIGINT until the block ends, then raise :class:`Interrupted` (unless ``reraise`` is
    False, as in exit hooks, or the block is already leaving with an exception: the run is stopping).

    Only the main thread is affected (signal handlers run there); elsewhere this does nothing.
    """
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    except BaseException:
        _depth -= 1
        if _depth == 0:
            _pending = None
        raise
    _depth -= 1
    if _depth == 0 and _pending is not None:
        signum, _pending = _pending, None
        if reraise:
            raise Interrupted(signum)


def received() -> int | None:
    """The first SIGTERM/SIGINT this process received, or None."""
    return _received


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` if a signal arrived, even if something swallowed the first one."""
    if _received is not None:
        raise Interrupted(_received)


def on_interrupt(callback: Callable[[int], object]) -> None:
    """Run ``callback(signum)`` once the interrupted run has unwound (e.g. to write partial reports)."""
    _callbacks.append(callback)


def report(exc: BaseException) -> int:
    """What ``tenant-harness`` does with an interruption: run the :func:`on_interrupt` callbacks, print
    ``tenant-harness: interrupted (SIGTERM)`` on stderr and return the exit code (128 + signum)."""
    exc = exc if isinstance(exc, Interrupted) else Interrupted(_received or signal.SIGINT)
    _run_callbacks(exc.signum)
    print(f"{PROG}: {exc}", file=sys.stderr, flush=True)
    return exc.exit_code


def _run_callbacks(signum: int) -> None:
    global _callbacks_ran
    if _callbacks_ran:
        return
    _callbacks_ran = True
    with deferred(reraise=False):
        for callback in list(_callbacks):
            try:
                callback(signum)
            except Exception as exc:  # one line: the interruption is the news, not the hook
                print(f"{PROG}: on-interrupt hook {getattr(callback, '__name__', callback)!s} failed: "
                      f"{' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)


def _run_callbacks_at_exit() -> None:
    if _received is not None:
        _run_callbacks(_received)


# Registered on import, before the modules that clean up register theirs: atexit runs last-in first-out,
# so the callbacks see the databases dropped and the server stopped.
atexit.register(_run_callbacks_at_exit)
