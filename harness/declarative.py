"""A scenario for a live service, written as TOML: no Python unless the file names a hook.

Read from a standalone file (``scenario.toml``) or from the ``[tool.tenant-harness]`` table of a
``pyproject.toml``. It says where the service and its OpenAPI document are, who the principals are
(declared with credentials from the environment, or signed up fresh every run with a run-unique
suffix, so that a second scan never depends on what the first one changed), how they log in, what
the tenancy is, what may not be sent, and values the schemas cannot give. The world is then made
through the API (:mod:`harness.phases.seed`), not described by hand. ``tenant-harness init --openapi
URL`` writes a commented skeleton. A missing or malformed field is one line naming it, with an example.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

from harness.auth import ENCODINGS, LoginSpec, SignupSpec, split_operation
from harness.errors import ScenarioError
from harness.scenario import Principal, Scenario, Tenant
from harness.world import World

MODELS = ("per-user", "declared")
EXAMPLES = {
    "target": '[target]\nopenapi = "/openapi.json"',
    "target.openapi": '[target] openapi = "/api/openapi.json"',
    "principals": '[principals] signup = ["alice", "bob"]  (or [[principals.declared]] entries)',
    "login": '[login] operation = "POST /token", encoding = "form", body = { username = "{email}", password = "{password}" }',
    "login.operation": '[login] operation = "POST /auth/login"',
    "signup": '[signup] operation = "POST /signup", body = { email = "{email}", password = "{password}" }',
    "signup.operation": '[signup] operation = "POST /signup"',
    "principals.declared.name": '[[principals.declared]] name = "acme-admin"',
}


def _missing(path: str, source: str) -> ScenarioError:
    example = EXAMPLES.get(path, "")
    return ScenarioError(f"{source}: {path} is missing" + (f", e.g. {example}" if example else ""))


def _table(data: dict, key: str, source: str, path: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ScenarioError(f"{source}: {path} must be a table, e.g. {EXAMPLES.get(path, f'[{path}]')}")
    return value


def _strings(value, source: str, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f'{source}: {path} must be a list of strings, e.g. {path} = ["GET /admin/reset"]')
    return tuple(value)


def _operations(value, source: str, path: str) -> tuple[str, ...]:
    labels = _strings(value, source, path)
    for label in labels:
        try:
            split_operation(label)
        except ScenarioError:
            raise ScenarioError(f'{source}: {path} entry {label!r} must be "METHOD /path", e.g. "GET /admin/reset"') from None
    return tuple(" ".join(split_operation(label)) for label in labels)


def _env(value, source: str, path: str):
    """``"$NAME"`` or ``{ env = "NAME" }`` read from the environment; anything else as written."""
    name = None
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        name = value[1:]
    elif isinstance(value, dict) and set(value) == {"env"}:
        name = value["env"]
    if name is None:
        return value
    if name not in os.environ:
        raise ScenarioError(f"{source}: {path} reads ${name}, which is not set: export {name}=...")
    return os.environ[name]


class DeclarativeScenario(Scenario):
    """A :class:`~harness.scenario.Scenario` whose every setting came from TOML (see :func:`load`)."""

    rls = False

    def __init__(self, data: dict, source: str):
        self.source = source
        self.name = str(data.get("name") or Path(source).stem)
        target = _table(data, "target", source, "target")
        self.base_url = target.get("base_url")
        openapi = target.get("openapi")
        if not openapi:
            raise _missing("target.openapi", source)
        self.openapi_path = str(openapi)
        self.honour_servers = bool(target.get("servers", True))
        self.path_prefixes = _strings(target.get("prefixes"), source, "target.prefixes")
        self._tenancy(_table(data, "tenancy", source, "tenancy"))
        self._principals(_table(data, "principals", source, "principals"))
        self._auth(data)
        safety = _table(data, "safety", source, "safety")
        self.allow_operations = _operations(safety.get("allow"), source, "safety.allow")
        # The login and sign-up operations are how principals authenticate, not targets.
        self.skip_operations = _operations(safety.get("skip"), source, "safety.skip") + tuple(
            op for op in (self.login.operation, self.signup and self.signup.operation) if op)
        self.rate_limit = safety.get("rate")
        self.timeout = safety.get("timeout")
        self.concurrency = safety.get("concurrency")
        seed = _table(data, "seed", source, "seed")
        self.api_seed = int(seed.get("objects", 2))
        self.seed_skip = _operations(seed.get("skip"), source, "seed.skip")
        resources = _table(data, "resources", source, "resources")
        self.resource_aliases, self.resource_keys = {}, {}
        for param, ref in resources.items():
            if not isinstance(ref, str) or not ref:
                raise ScenarioError(f'{source}: resources.{param} must name a resource, e.g. {param} = "workspaces.slug"')
            kind, _, key = ref.partition(".")
            self.resource_aliases[param] = ref
            if key:
                self.resource_keys[kind] = key
        bodies = _table(data, "bodies", source, "bodies")
        self.body_hints = {" ".join(split_operation(label)): dict(hint) for label, hint in bodies.items()}
        self.parameter_values = dict(_table(data, "parameters", source, "parameters"))
        self.forbidden = {role: set(_operations(ops, source, f"forbidden.{role}"))
                          for role, ops in _table(data, "forbidden", source, "forbidden").items()}
        self.volatile_fields = _strings(data.get("volatile_fields"), source, "volatile_fields")
        waivers = data.get("waivers", [])
        if not isinstance(waivers, list) or not all(isinstance(w, dict) for w in waivers):
            raise ScenarioError(f'{source}: waivers must be [[waivers]] tables, e.g. [[waivers]] kind = "object-level", '
                                f'operation = "DELETE /notes/{{id}}", reason = "..."')
        self.waivers = [dict(w) for w in waivers]
        waivers_file = data.get("waivers_file")
        if waivers_file is not None and not isinstance(waivers_file, str):
            raise ScenarioError(f'{source}: waivers_file must be a path, e.g. waivers_file = "waivers.toml"')
        # Relative to the scenario file, like every other path it names.
        folder = Path(source.split(" [", 1)[0]).parent
        self.waivers_file = str(folder / waivers_file) if waivers_file else None

    # -- parsing ---------------------------------------------------------------------------------------
    def _tenancy(self, tenancy: dict) -> None:
        self.model = tenancy.get("model", "per-user")
        if self.model not in MODELS:
            raise ScenarioError(f'{self.source}: tenancy.model {self.model!r} is not one of {", ".join(MODELS)}, '
                                f'e.g. model = "per-user"')
        self.tenant_headers = _strings(tenancy.get("headers", list(Scenario.tenant_headers)), self.source,
                                       "tenancy.headers")
        self.tenant_params = _strings(tenancy.get("params", list(Scenario.tenant_params)), self.source,
                                      "tenancy.params") or Scenario.tenant_params

    def _principals(self, section: dict) -> None:
        self.role = str(section.get("role", "user"))
        self.signup_names = _strings(section.get("signup"), self.source, "principals.signup")
        self.email_template = section.get("email", "{name}.{run}@example.test")
        self.declared = []
        for i, entry in enumerate(section.get("declared", []) or []):
            where = f"principals.declared[{i}]"
            if not isinstance(entry, dict) or not entry.get("name"):
                raise _missing("principals.declared.name", self.source)
            credentials = {k: _env(v, self.source, f"{where}.credentials.{k}")
                           for k, v in (entry.get("credentials") or {}).items()}
            tenant = str(entry.get("tenant", entry["name"]))
            self.declared.append({"name": str(entry["name"]), "role": str(entry.get("role", self.role)),
                                  "tenant": tenant, "client": str(entry.get("client", tenant)),
                                  "visible": tuple(entry.get("visible", [tenant])), "credentials": credentials})
        if not self.signup_names and not self.declared:
            raise _missing("principals", self.source)
        if self.model == "per-user" and any(d["visible"] != (d["tenant"],) for d in self.declared):
            raise ScenarioError(f'{self.source}: tenancy.model "per-user" gives each principal one tenant: '
                                f'use model = "declared" for principals that see several')

    def _auth(self, data: dict) -> None:
        hooks = _table(data, "hooks", self.source, "hooks")
        login = dict(_table(data, "login", self.source, "login"))
        if hooks.get("login"):
            login.setdefault("hook", hooks["login"])
        if not login:
            raise _missing("login", self.source)
        if not (login.get("operation") or login.get("api_key") or login.get("hook")):
            raise _missing("login.operation", self.source)
        unknown = set(login) - set(LoginSpec.__dataclass_fields__)
        if unknown:
            raise ScenarioError(f"{self.source}: login.{sorted(unknown)[0]} is not a login setting (known: "
                                f"{', '.join(LoginSpec.__dataclass_fields__)})")
        if login.get("operation"):
            login["operation"] = " ".join(split_operation(login["operation"]))
        self.login = LoginSpec(**login)
        signup = _table(data, "signup", self.source, "signup")
        self.signup = None
        if self.signup_names:
            if not signup:
                raise _missing("signup", self.source)
            if not signup.get("operation"):
                raise _missing("signup.operation", self.source)
            encoding = signup.get("encoding", "json")
            if encoding not in ENCODINGS:
                raise ScenarioError(f'{self.source}: signup.encoding {encoding!r} is not one of {", ".join(ENCODINGS)}')
            self.signup = SignupSpec(" ".join(split_operation(signup["operation"])), encoding,
                                     dict(signup.get("body", {})), signup.get("creates"))

    # -- the Scenario interface ------------------------------------------------------------------------
    def generate_world(self, seed: int) -> World:
        """No rows: the world is made through the API. ``run`` makes this run's sign-ups unique."""
        return World(seed, {}, {}, meta={"run": secrets.token_hex(3)})

    def install(self, admin_dsn: str) -> None:
        raise ScenarioError(f"{self.source} describes a live service: pass --base-url (or set [target] base_url)")

    def create_app(self, db):
        raise ScenarioError(f"{self.source} describes a live service: pass --base-url (or set [target] base_url)")

    def tenants(self, world: World) -> list[Tenant]:
        out = {name: Tenant(name, name, name) for name in self.signup_names}
        for d in self.declared:
            for tenant in (d["tenant"], *d["visible"]):
                out.setdefault(tenant, Tenant(tenant, tenant, d["client"] if tenant == d["tenant"] else tenant))
        return list(out.values())

    def principals(self, world: World) -> list[Principal]:
        run = world.meta.get("run", "run")
        out = []
        for name in self.signup_names:
            credentials = {"run": run, "password": f"Th-{secrets.token_urlsafe(12)}-9"}
            credentials["email"] = self.email_template.format(name=name, run=run)
            out.append(Principal(name, self.role, name, frozenset({name}), credentials))
        for d in self.declared:
            out.append(Principal(d["name"], d["role"], d["tenant"], frozenset(d["visible"]), dict(d["credentials"])))
        return out

    def is_forbidden(self, principal: Principal, operation: str) -> bool:
        return operation in self.forbidden.get(principal.role, ())


def read(path: str | Path) -> tuple[dict, str]:
    """The scenario table of ``path`` (a standalone TOML file, or ``[tool.tenant-harness]`` of a pyproject)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path} is not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("tenant-harness")
        if not isinstance(section, dict):
            raise ScenarioError(f"{path} has no [tool.tenant-harness] table: add one (see tenant-harness init)")
        return section, f"{path} [tool.tenant-harness]"
    return data, str(path)


def load(path: str | Path) -> Scenario:
    """The scenario described by ``path``."""
    data, source = read(path)
    scenario = DeclarativeScenario(data, source)
    scenario.path = str(path)
    return scenario
