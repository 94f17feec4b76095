"""The catalogue of planted tenant-isolation faults, switched on with ``PHOENIX_FAULTS``.

Each fault is a realistic bug of a single-tenant → multi-tenant retrofit. The code that carries it
lives where such a bug would really live (a repository method, a cache key, the connection pool, a
report's SQL) and asks :func:`on` whether it is switched on. The default is none: the clean build.

The harness never reads this module or the variable; it must find each fault from what it observes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "PHOENIX_FAULTS"


@dataclass(frozen=True)
class Fault:
    name: str
    #: The bug class, e.g. ``list-unfiltered``, ``idor``, ``report-aggregate``.
    cls: str
    #: Operations (``"GET /api/dashboard/projects"``) or reports (``"report:revenue_by_month"``) affected.
    affects: tuple[str, ...]
    description: str


REGISTRY: dict[str, Fault] = {}


def register(name: str, cls: str, affects: tuple[str, ...] | list[str], description: str) -> Fault:
    fault = Fault(name, cls, tuple(affects), description)
    if name in REGISTRY:
        raise ValueError(f"fault {name!r} registered twice")
    REGISTRY[name] = fault
    return fault


def parse(value: str | None) -> frozenset[str]:
    """Parse a ``PHOENIX_FAULTS`` value; unknown names are an error, not a silent no-op."""
    _load_catalogue()
    names = {n.strip() for n in (value or "").split(",") if n.strip()}
    if names == {"all"}:
        return frozenset(REGISTRY)
    unknown = sorted(names - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown fault(s) in {ENV}: {', '.join(unknown)}; "
                         f"`python -m phoenix faults` lists the catalogue")
    return frozenset(names)


def active() -> frozenset[str]:
    """The faults switched on for this process (read from the environment)."""
    return parse(os.environ.get(ENV))


def on(name: str) -> bool:
    _load_catalogue()
    if name not in REGISTRY:
        raise KeyError(f"no fault named {name!r}")
    return name in active()


def rls_unforced(table: str) -> bool:
    """Whether the install leaves FORCE ROW LEVEL SECURITY off on ``table`` (fault class 18)."""
    return table == "documents" and "rls-not-forced" in REGISTRY and on("rls-not-forced")


def _load_catalogue() -> None:
    # The catalogue is declared next to the code it breaks; importing it fills REGISTRY.
    from phoenix import catalogue  # noqa: F401
