"""How deep a run goes: ``pr`` (seconds to a couple of minutes), ``nightly``, ``release``."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError


@dataclass(frozen=True)
class Profile:
    name: str
    #: Schemathesis cases generated per operation for the random phase (each sent by every principal).
    examples: int
    #: Share of random-phase requests that carry an attack (foreign id or tenant tampering).
    attack_rate: float
    #: Safe requests per operation × principal compared across twin worlds.
    twin_examples: int
    #: Generated parameter sets per reporting query (after its defaults).
    query_examples: int
    #: Create-as-A, then read/update/delete-as-B sequences.
    stateful: bool
    #: The database audit: RLS enabled and forced, policies, the app role's rights (needs a database).
    audit: bool = False
    #: Search depth (issue 12): systematic values, pages followed, body references, every report enum
    #: value, the existence and cross-reference oracles. False gives the scan as it was before (the
    #: bench baseline).
    depth: bool = True
    #: Pages followed per list and principal, the first included (``depth`` only).
    pages: int = 3
    #: Seconds one request may take (in-process too); then it is recorded as a timeout and the scan
    #: moves on (an operation that timed out 3 times is not sent again).
    request_timeout: float = 10.0
    #: Seconds one phase may take, and the whole scan (from start to reports); None: unbounded. At a
    #: deadline the scan stops sending, writes its reports marked incomplete and exits 124.
    phase_deadline: float | None = 900.0
    deadline: float | None = 1800.0
    #: Generated cases per collection operation × principal compared across twin worlds, and parameter
    #: sets per reporting query (``depth`` only; ``twin_examples`` otherwise): their filters take branches.
    twin_list_examples: int = 4
    #: Root cause in SQL (harness.rootcause): capture the statements each in-process request runs, name
    #: the unprotected ones in findings, list them all in the query inventory. False: the bench baseline.
    capture: bool = True


PROFILES = {
    "pr": Profile("pr", examples=6, attack_rate=0.3, twin_examples=2, query_examples=3, stateful=False),
    "nightly": Profile("nightly", examples=40, attack_rate=0.3, twin_examples=6, query_examples=20, stateful=True,
                       audit=True, pages=6, request_timeout=30.0, phase_deadline=3600.0, deadline=4 * 3600.0,
                       twin_list_examples=12),
    "release": Profile("release", examples=100, attack_rate=0.3, twin_examples=12, query_examples=50, stateful=True,
                       audit=True, pages=10, request_timeout=30.0, phase_deadline=4 * 3600.0, deadline=12 * 3600.0,
                       twin_list_examples=24),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise HarnessError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}") from None
