"""pytest plugin loaded by ``tenant-harness scan``: a SIGTERM/SIGINT ends the session promptly.

pytest reports a KeyboardInterrupt (:class:`harness.signals.Interrupted` is one) by first rendering its
whole traceback with every frame's arguments: through the scan's deep collection stack that costs
seconds (schemathesis objects have expensive reprs), only for pytest to print its last line. The CLI
prints the line that matters (``tenant-harness: interrupted (SIGTERM)``), so the traceback is cut to the
frame the signal landed in before pytest looks at it.
"""

from __future__ import annotations

import pytest

from harness import signals


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo) -> None:
    if isinstance(excinfo.value, signals.Interrupted):
        excinfo.traceback = excinfo.traceback[-1:]
        excinfo.value.__cause__ = None
        excinfo.value.__suppress_context__ = True
