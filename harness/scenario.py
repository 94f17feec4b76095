"""The scenario: the declarative description of one isolation campaign.

A scenario says what to attack (an ASGI app built in-process on a database the harness prepares, or a
live base URL), how to build and install the world, who the tenants and principals are, how a
principal logs in, which operations a role is not allowed to call, which reporting queries exist and
how the app runs them, and which fields legitimately vary. Phoenix is one scenario
(``scenarios/phoenix.py``); a user's own app is another. The harness knows nothing else of the target.

Load one with :func:`load_scenario` from a Python file that defines ``SCENARIO`` (an instance) or a
``scenario()`` factory, or from a TOML file (:mod:`harness.declarative`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError
from harness.world import World


@dataclass(frozen=True)
class Tenant:
    id: str
    slug: str
    #: The organisation (client) that owns this tenant; corporate principals see their client's tenants.
    client: str


@dataclass(frozen=True)
class Principal:
    """A user with a role, and the tenants it may see: V(P)."""

    name: str  # e.g. "techcorp-east:admin"
    role: str
    tenant: str  # home tenant id (its creations belong here)
    visible: frozenset[str]  # tenant ids in V(P)
    credentials: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str  # date | int | enum | currency | bool | text
    required: bool = False
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    choices: tuple = ()


@dataclass(frozen=True)
class Query:
    """A reporting query: run in the database as the app runs it, and through its endpoint."""

    name: str
    params: tuple[QueryParam, ...]
    roles: tuple[str, ...]
    #: Optional HTTP route for the same query, e.g. ("POST", "/api/reports/revenue_by_month").
    endpoint: tuple[str, str] | None = None


@dataclass
class Database:
    """The database a run uses (a clone of the seeded template) as the scenario sees it."""

    name: str
    admin_dsn: str
    dsn: Callable[..., str]  # dsn(user=None, password=None) -> DSN of this database


class Scenario:
    """Subclass and override. Defaults describe a conventional bearer-token JSON API."""

    name = "scenario"
    openapi_path = "/openapi.json"
    #: Live target: when set, requests go to this URL and no app is built in-process.
    base_url: str | None = None
    #: Where a developer runs the app locally: the base of the ``curl`` lines of in-process findings.
    local_url = "http://localhost:8000"
    login_path = "/api/auth/login"
    token_field = "access_token"
    #: Only operations whose path starts with one of these prefixes are fuzzed (empty: all).
    path_prefixes: tuple[str, ...] = ()
    #: Operations never sent (e.g. the login endpoint itself), as "METHOD /path".
    skip_operations: tuple[str, ...] = ()
    #: JSON field names that non-interference never compares. Calibration already masks what differs
    #: between two identical requests; list here only what can differ between the base and the twin
    #: app for reasons other than data (a clock at second resolution, a per-process id). Every name
    #: masked is a place a leak could hide, so the default masks nothing.
    volatile_fields: tuple[str, ...] = ()
    #: The database role the app connects as, for the database audit (not owner, superuser or BYPASSRLS).
    app_role: str | None = None
    #: Whether the app relies on row-level security as defence in depth (the audit checks it if so).
    rls: bool = True
    #: Headers that carry a tenant in multi-tenant apps; the tampering attack tries each.
    tenant_headers: tuple[str, ...] = ("X-Tenant-ID", "X-Tenant", "X-Org-ID")
    #: Query/body parameter names that name a tenant.
    tenant_params: tuple[str, ...] = ("tenant_id", "tenant", "org_id")
    #: Parameter (or path segment) name -> what it names, where naming alone does not tell: ``"table"``
    #: (its key) or ``"table.column"`` (``"ws": "workspaces.slug"``, ``"number": "accounts.number"``;
    #: ``"members": "memberships"`` for the resource type of ``/w/{ws}/members``). A parameter naming the
    #: tenants' own table is the tenant in the path (harness/fuzz/resources.py).
    resource_aliases: dict[str, str] = {}
    #: Values the spec cannot give, by parameter name or per operation (``{"METHOD /path": {name: ...}}``):
    #: a list, or ``"table.column"`` for the principal's own values of that column (every row's for a
    #: shared table): the currency codes the data uses, an existing user's e-mail (harness/fuzz/fill.py).
    parameter_values: dict[str, Any] = {}
    #: Make the strings generated for a principal's unsafe request unique to it and to the request (a
    #: short suffix the schema allows), so a column unique across the database does not answer every
    #: principal after the first with 409 (harness/fuzz/unique.py).
    unique_values: bool = True

    # -- the world ---------------------------------------------------------------------------------
    def generate_world(self, seed: int) -> World:
        raise ScenarioError(f"{type(self).__name__} must implement generate_world(seed)")

    def install(self, admin_dsn: str) -> None:
        """Create the schema in an empty database (superuser DSN). Runs once, into the template."""
        raise ScenarioError(f"{type(self).__name__} must implement install(admin_dsn)")

    def tenants(self, world: World) -> Sequence[Tenant]:
        raise ScenarioError(f"{type(self).__name__} must implement tenants(world)")

    def principals(self, world: World) -> Sequence[Principal]:
        raise ScenarioError(f"{type(self).__name__} must implement principals(world)")

    # -- the target --------------------------------------------------------------------------------
    def create_app(self, db: Database):
        """Return the ASGI app serving ``db`` (in-process targets)."""
        raise ScenarioError(f"{type(self).__name__} must implement create_app(db) or set base_url")

    def login_request(self, principal: Principal) -> tuple[str, str, dict]:
        """(method, path, json body) that logs ``principal`` in."""
        return "POST", self.login_path, dict(principal.credentials)

    def auth_headers(self, login_response_json: dict) -> dict[str, str]:
        token = login_response_json.get(self.token_field)
        if not token:
            raise ScenarioError(f"login response has no {self.token_field!r} field")
        return {"Authorization": f"Bearer {token}"}

    def is_forbidden(self, principal: Principal, operation: str) -> bool:
        """True when the role may not call ``operation``: it must be refused, and need not reach a 2xx."""
        return False

    # -- reporting queries (optional) --------------------------------------------------------------
    def queries(self) -> Sequence[Query]:
        return ()

    def run_query(self, db: Database, query: Query, params: dict, principal: Principal) -> list[dict]:
        """Run ``query`` in the database exactly as the app does for ``principal``."""
        raise ScenarioError(f"{type(self).__name__} declares queries but not run_query")

    # -- live services (harness/declarative.py fills these from TOML; a Python subclass may set them) ----
    #: How a principal logs in (:class:`harness.auth.LoginSpec`: JSON, form, multipart, header, cookie,
    #: API key, hook); None keeps ``login_request`` / ``auth_headers``.
    login: Any = None
    #: How fresh principals are signed up every run (:class:`harness.auth.SignupSpec`); None: they exist.
    signup: Any = None
    #: Honour the spec's ``servers[0].url`` (requests go to the base URL + that path).
    honour_servers: bool = True
    #: Dangerous operations (:mod:`harness.safety`) the scan may nevertheless send on a live target.
    allow_operations: tuple[str, ...] = ()
    #: Objects created through the API per principal and resource type (live targets without a world).
    api_seed: int = 2
    #: Create operations the API seeding must not use.
    seed_skip: tuple[str, ...] = ()
    #: Resource type -> the response field that is its key when it is not ``id`` (e.g. a slug).
    resource_keys: dict[str, str] = {}
    #: Body values per operation ("METHOD /path" -> {field: value}) where the request schema is too loose.
    body_hints: dict[str, dict] = {}
    #: Live-target limits (None: the command line's or the harness's defaults).
    rate_limit: float | None = None
    timeout: float | None = None
    concurrency: int | None = None

    def login_spec(self):
        return self.login

    # -- accepted findings (harness/waivers.py) ------------------------------------------------------------
    #: Findings accepted for now: dicts (or harness.waivers.Waiver) with ``id``, or ``kind`` and
    #: ``operation``; ``reason`` (required) and ``expires`` (ISO date, optional). A waived finding stays
    #: in every report, marked, and does not fail the scan; an expired waiver no longer applies; a
    #: waiver that matches nothing is reported as stale.
    waivers: tuple = ()


def load_scenario(path: str | Path) -> Scenario:
    """Import a scenario file; a one-line :class:`ScenarioError` if it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file {path} does not exist (pass --harness-scenario PATH)")
    if path.suffix == ".toml":
        from harness import declarative

        return declarative.load(path)
    module_name = f"_harness_scenario_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ScenarioError(f"cannot import scenario {path}: {type(exc).__name__}: {exc}") from exc
    obj = getattr(module, "SCENARIO", None)
    if obj is None and callable(getattr(module, "scenario", None)):
        obj = module.scenario()
    if not isinstance(obj, Scenario):
        raise ScenarioError(f"{path} must define SCENARIO (a harness.scenario.Scenario) or scenario()")
    return obj
