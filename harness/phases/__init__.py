"""The campaign's phases, one module each, each an ``async def run(ctx)`` over a :class:`RunContext`.

Order matters and lives in :data:`harness.context.PHASES`: the previous run's findings first, the
deterministic sweep next (the obvious leaks in seconds), reports before any random write can empty
them, and non-interference last, on twin databases of its own.
"""

from __future__ import annotations

import importlib


def module(name: str):
    """The module implementing phase ``name`` (``harness.phases.<name>``)."""
    return importlib.import_module(f"harness.phases.{name}")
