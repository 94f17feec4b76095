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


PROFILES = {
    "pr": Profile("pr", examples=6, attack_rate=0.3, twin_examples=2, query_examples=3, stateful=False),
    "nightly": Profile("nightly", examples=40, attack_rate=0.3, twin_examples=6, query_examples=20, stateful=True,
                       audit=True),
    "release": Profile("release", examples=100, attack_rate=0.3, twin_examples=12, query_examples=50, stateful=True,
                       audit=True),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise HarnessError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}") from None
