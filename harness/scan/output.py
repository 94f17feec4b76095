"""Where the reports go: checked before the scan, and never lost after it.

``--out`` is created and probed with a real write before anything is scanned (a read-only or invalid
directory is a one-line error, exit 2, with nothing scanned). If it still fails at the end (removed,
filled, made read-only during the run), the reports go to a fresh temporary directory and one line
says where: a finished scan is never thrown away.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.errors import HarnessError


def check_writable(outdir) -> Path:
    """Create ``outdir`` if needed and prove a file can be written there; a one-line error if not."""
    path = Path(outdir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tenant-harness-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HarnessError(f"cannot write reports to {path}: {reason}: choose a writable --out directory") from None
    return path


def write(source, outdir) -> tuple[list[Path], str | None]:
    """Write the reports to ``outdir``, else to a temporary directory; returns (paths, the error line)."""
    from harness.report import write_reports

    try:
        return write_reports(source, Path(outdir)), None
    except OSError as exc:
        fallback = Path(tempfile.mkdtemp(prefix="tenant-harness-reports-"))
        paths = write_reports(source, fallback)
        reason = exc.strerror or type(exc).__name__
        return paths, f"cannot write reports to {outdir}: {reason}: wrote them to {fallback} instead"
