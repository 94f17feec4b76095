"""The run context: what every phase reads and writes, built once per campaign.

A phase is a function of this context (``harness/phases/``); the campaign only builds the context and
orders the phases. Keeping the shared state in one object, with the questions every phase asks of it
(whom may P attack, which term finds a victim's rows), is what lets a new phase be one small module
instead of one more method on a 500-line class.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field

from harness import waivers
from harness.errors import HarnessError
from harness.fuzz import searchable
from harness.fuzz.probes import ProbeBuilder
from harness.fuzz.resources import ResourceIds
from harness.markers import OwnershipIndex
from harness.profiles import Profile, get_profile
from harness.scenario import Database, Principal, Scenario, Tenant
from harness.world import World

PHASES = ("audit", "replay", "seed", "sweep", "reports", "fuzz", "stateful", "noninterference")


@dataclass
class Options:
    seed: int = 1
    profile: str = "pr"
    db_url: str | None = None
    db_mode: str | None = None
    base_url: str | None = None  # live target
    target_db_url: str | None = None  # the live target's database (superuser), for write isolation
    verbose: bool = False
    #: Where progress lines go (default: stderr); the pytest plugin passes its terminal writer.
    log: object = None
    #: Phases to run (default: the profile's). A developer reproducing one leak may run only ``sweep``.
    phases: tuple[str, ...] | None = None
    #: The previous run's findings.json: its findings are replayed first (same seed only).
    previous: str | None = None
    # -- live targets (harness/safety.py) --
    #: Send unsafe methods to a non-loopback target (loopback targets always get them).
    allow_writes: bool = False
    #: The non-loopback host the user confirms scanning (must equal the base URL's host).
    target_host: str | None = None
    #: Requests in flight at once, requests per second, seconds per request (None: the scenario's, else defaults).
    concurrency: int | None = None
    rate: float | None = None
    timeout: float | None = None
    # -- time bounds and shared work (harness/budget.py, harness/partition.py) --
    #: Seconds the whole scan may take (None: the profile's); then it stops sending and reports, incomplete.
    deadline: float | None = None
    #: (index, count): run only this share of the operations and queries (an xdist worker).
    shard: tuple[int, int] | None = None
    #: A template already seeded with this seed's world on the server (shared by xdist workers).
    template_db: str | None = None
    #: A waivers file kept under version control (TOML ``[[waivers]]`` or JSON), added to the scenario's.
    waivers_file: str | None = None
    #: A regression corpus folder (harness/corpus.py): replayed first, new findings added.
    corpus: str | None = None
    #: Only these operations are scanned once the world exists (``reproduce`` on a live target).
    focus: tuple[str, ...] | None = None


def select_phases(profile: Profile, chosen: tuple[str, ...] | None) -> tuple[str, ...]:
    """The phases to run, in campaign order; an unknown name is a one-line error."""
    if chosen is not None:
        if not chosen:
            raise HarnessError(f"no phase chosen: choose from {', '.join(PHASES)}")
        unknown = sorted(set(chosen) - set(PHASES))
        if unknown:
            raise HarnessError(f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(PHASES)}")
        # ``seed`` always runs where it applies (a live target without a world): phases need objects.
        return tuple(ph for ph in PHASES if ph in chosen or ph == "seed")
    return tuple(ph for ph in PHASES if (ph != "stateful" or profile.stateful) and (ph != "audit" or profile.audit))


@dataclass
class RunContext:
    scenario: Scenario
    opt: Options
    world: World
    tenants: list[Tenant]
    principals: list[Principal]
    index: OwnershipIndex
    ids: ResourceIds
    profile: Profile = None
    phases: tuple[str, ...] = ()
    skipped: list[str] = field(default_factory=list)
    # -- set by the campaign once the target is up -----------------------------------------------------
    target: object = None  # harness.target.Target
    exchange: object = None  # harness.exchange.Exchange
    operations: list = field(default_factory=list)
    templates: dict = field(default_factory=dict)  # operation label -> generated templates
    queries: list = field(default_factory=list)
    run_db: Database | None = None  # the in-process run's database (None for live targets)
    server: object = None  # the database server (in-process only): twins are cloned on it
    template_db: str | None = None
    tag: str = ""
    created: list[str] = field(default_factory=list)  # databases to drop at the end
    # -- live targets (harness/live.py, harness/safety.py, harness/phases/seed.py) --------------------
    policy: object = None  # harness.safety.WritePolicy; None in-process
    excluded: dict = field(default_factory=dict)  # operation label -> why it is never sent
    seeded: dict = field(default_factory=dict)  # principal name -> [(type, key, path params)] made through the API
    journal: list = field(default_factory=list)  # unsafe requests that got a 2xx in the current phase
    spec_operations: list = field(default_factory=list)  # every operation (``operations``: this shard's)
    spec_queries: list = field(default_factory=list)  # every query (``queries``: this shard's)
    waivers: list = field(default_factory=list)  # harness.waivers.Waiver, from the scenario
    incomplete: str | None = None  # why the run stopped early (a deadline, a signal)
    budget: object = None  # harness.budget.Budget
    sql: object = None  # harness.rootcause.RootCause: statements per request (in-process runs, capture on)
    # -- recorded for the findings document ----------------------------------------------------------
    public_markers: list[str] = field(default_factory=list)
    security_definers: list[str] | None = None
    twins: dict | None = None  # V(P) (tenant slugs) -> rows added, removed, shifted per table in its twin
    #: Operation label -> the fields its search parameter searches (harness/fuzz/searchable.py).
    searchable: dict = field(default_factory=dict)
    _search_terms: dict = field(default_factory=dict, repr=False)
    _progress: object = field(default=None, repr=False)

    @classmethod
    def prepare(cls, scenario: Scenario, opt: Options) -> "RunContext":
        """The world from the seed, its tenants and principals, the ownership index and id pools."""
        t = time.monotonic()
        profile = get_profile(opt.profile)
        phases = select_phases(profile, opt.phases)
        world = scenario.generate_world(opt.seed)
        tenants = list(scenario.tenants(world))
        principals = list(scenario.principals(world))
        if not tenants or not principals:
            raise HarnessError("the scenario declares no tenants or no principals")
        ctx = cls(scenario, opt, world, tenants, principals, OwnershipIndex.from_world(world),
                  ResourceIds(world, scenario.resource_aliases, getattr(scenario, "resource_keys", None)),
                  profile, phases)
        ctx.ids.reserve(v for p in principals for v in p.credentials.values())  # logins: never moved
        if opt.phases is not None:
            ctx.skipped += [f"phase {ph}: not selected" for ph in PHASES if ph not in phases]
        declared = list(getattr(scenario, "waivers", ()) or ())
        for path in filter(None, (getattr(scenario, "waivers_file", None), opt.waivers_file)):
            declared += waivers.load(path)
        ctx.waivers = waivers.parse(declared)  # a malformed waiver: one line, now
        ctx.log(f"world seed={opt.seed}: {sum(map(len, world.tables.values()))} rows, {len(tenants)} tenants, "
                f"{len(principals)} principals, {len(ctx.index)} markers ({time.monotonic() - t:.2f}s)")
        return ctx

    # -- questions phases ask ------------------------------------------------------------------------
    @property
    def slugs(self) -> dict[str, str]:
        return {t.id: t.slug for t in self.tenants}

    def log(self, message: str) -> None:
        if self.opt.verbose:
            (self.opt.log or (lambda line: print(line, file=sys.stderr, flush=True)))(f"[harness] {message}")

    def progress(self, phase: str, operations: list):
        """Operations of ``phase`` one by one, reporting progress (verbose runs): ``for op in ctx.progress(...)``."""
        if not self.opt.verbose or self.exchange is None:
            yield from operations
            return
        from harness.progress import Progress

        if self._progress is None:
            self._progress = Progress(self.opt.log)
        ex = self.exchange
        self._progress.start(phase, len(operations), ex.requests)
        for done, op in enumerate(operations, 1):
            yield op
            self._progress.step(done, len(ex.findings), ex.requests)

    def builder(self, rng: random.Random) -> ProbeBuilder:
        return ProbeBuilder(self.ids, [t.id for t in self.tenants], self.scenario, rng)

    def victims(self, p: Principal) -> list[str]:
        """One foreign tenant of another client, and one sibling outside V(P) if there is one."""
        home_client = next(t.client for t in self.tenants if t.id == p.tenant)
        outside = [t for t in self.tenants if t.id not in p.visible]
        picks = [next((t for t in outside if t.client != home_client), None),
                 next((t for t in outside if t.client == home_client), None)]
        return [t.id for t in picks if t is not None]

    def search_terms(self, victim: str, op) -> list[str]:
        """Up to three of ``victim``'s values to search ``op`` with: its values of the fields ``op`` was
        seen to search (:mod:`harness.fuzz.searchable`; memoised: the sweep asks per request)."""
        key = (victim, op.label)
        if key not in self._search_terms:
            self._search_terms[key] = searchable.terms(self, victim, op)
        return self._search_terms[key]

    def database(self, name: str) -> Database:
        """The scenario's view of database ``name`` on the run's server."""
        server = self.server
        return Database(name, server.dsn(name), lambda user=None, password=None, _n=name: server.dsn(_n, user, password))
