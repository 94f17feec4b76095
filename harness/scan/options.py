"""The scan's command-line choices, checked before anything is scanned.

A phase list that is empty, or that names only phases which cannot establish coverage (replay,
stateful, noninterference alone would pass a scan that proved nothing), is an error, and so is a
deadline that is not a positive number: each is one line, before a database is started.
"""

from __future__ import annotations

from harness.context import PHASES
from harness.errors import HarnessError
from harness.model import REACH


def phases(value: str | None) -> tuple[str, ...] | None:
    """``--phases`` as a tuple (None: the profile's), or a one-line error."""
    if value is None:
        return None
    chosen = tuple(p.strip() for p in value.split(",") if p.strip())
    if not chosen:
        raise HarnessError(f"--phases {value!r} names no phase: choose from {', '.join(PHASES)}")
    unknown = sorted(set(chosen) - set(PHASES))
    if unknown:
        raise HarnessError(f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(PHASES)}")
    if not any(p in REACH for p in chosen):
        raise HarnessError(f"--phases {','.join(chosen)} cannot establish coverage of anything, so the scan could "
                           f"only pass vacuously: add one of {', '.join(REACH)}")
    return chosen


def shard(value: str | None) -> tuple[int, int] | None:
    """``--shard I/N`` (1-based) as the campaign's (index, count), or a one-line error."""
    if value is None:
        return None
    try:
        i, n = (int(part) for part in str(value).split("/"))
    except ValueError:
        i = n = 0
    if not (n >= 1 and 1 <= i <= n):
        raise HarnessError(f"--shard {value!r} must be I/N with 1 <= I <= N, e.g. --shard 1/4")
    return i - 1, n


def seconds(value, flag: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number > 0:
        raise HarnessError(f"{flag} {value!r} must be a positive number of seconds")
    return number
