"""The operations of an OpenAPI spec, and Schemathesis-generated requests for each.

Generation is the expensive part of fuzzing (Schemathesis 4 makes ~250 cases/s on 2 cores), so each
operation's cases are generated once and then sent as every principal, which also makes responses of
different principals to the same request comparable. Only positive cases are generated: negative and
coverage modes drop the ``Authorization`` header, which would make every request anonymous.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from harness.errors import ScenarioError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Operation:
    method: str
    path: str
    st_operation: object = field(repr=False)
    path_params: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    has_body: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def safe(self) -> bool:
        return self.method in SAFE_METHODS

    @property
    def innermost(self) -> str | None:
        """The last path parameter by its place in the path (the spec may list parameters in any order)."""
        names = re.findall(r"\{(\w+)\}", self.path)
        return names[-1] if names else (self.path_params[-1] if self.path_params else None)

    def match(self, path: str) -> dict | None:
        """The path parameters if the concrete ``path`` is an instance of this operation's template."""
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass
class Template:
    """One generated request, before a principal fills in ids and credentials."""

    path_params: dict
    query: dict
    body: object  # None when the operation has no body
    headers: dict

    def clone(self) -> "Template":
        return Template(dict(self.path_params), dict(self.query), copy.deepcopy(self.body), dict(self.headers))


def load_operations(spec: dict, prefixes=(), skip=()) -> list[Operation]:
    try:
        schema = schemathesis.openapi.from_dict(spec)
    except Exception as exc:
        raise ScenarioError(f"the OpenAPI spec cannot be loaded: {type(exc).__name__}: {exc}") from None
    operations = []
    for result in schema.get_all_operations():
        try:
            op = result.ok()
        except Exception as exc:
            raise ScenarioError(f"invalid operation in the OpenAPI spec: {exc}") from None
        method = op.method.upper()
        label = f"{method} {op.path}"
        if prefixes and not op.path.startswith(tuple(prefixes)):
            continue
        if label in skip:
            continue
        operations.append(Operation(method, op.path, op, tuple(p.name for p in op.path_parameters),
                                    tuple(p.name for p in op.query), bool(list(op.body))))
    # Lists before details before writes, deletes last: ids a principal can use are learned from its
    # own list responses, and nothing is deleted before every other operation has had its turn.
    rank = {"GET": 0, "HEAD": 0, "POST": 2, "PUT": 2, "PATCH": 2, "DELETE": 3}
    operations.sort(key=lambda o: (rank.get(o.method, 2) + (1 if o.method == "GET" and o.path_params else 0),
                                   o.path.count("{"), o.path, o.method))
    if not operations:
        raise ScenarioError("the OpenAPI spec has no operation to test"
                            + (f" under {', '.join(prefixes)}" if prefixes else ""))
    return operations


def generate(operation: Operation, count: int, seed: int) -> list[Template]:
    """``count`` positive requests for ``operation``, reproducible from ``seed``."""
    strategy = operation.st_operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    out: list[Template] = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case):
        body = None if isinstance(case.body, NotSet) else case.body
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        out.append(Template(dict(case.path_parameters or {}), dict(case.query or {}), body, headers))

    collect()
    return out


# -- systematic values (search depth) ---------------------------------------------------------------------
#: Query parameters that size or position a page: their bounds are systematic values too.
PAGING_PARAMS = frozenset({"limit", "offset", "page", "per_page", "page_size", "size", "skip", "take"})
_QUERY_VALUES = {"enum_value": "enum", "enum_value_items_array": "enum", "valid_boolean": "boolean"}
_BOUNDS = {"minimum_value": "minimum", "maximum_value": "maximum"}
_BODY_VALUE = re.compile(r"^Object with valid '([^']+)' value: (Enum value|Valid boolean value)$")


@dataclass(frozen=True)
class Variant:
    """One systematic value: parameter ``name`` in ``where`` (query | body) set to ``value``."""

    where: str
    name: str
    value: object
    why: str  # enum | boolean | minimum | maximum

    @property
    def note(self) -> str:
        return f"{self.where} {self.name}={self.value} ({self.why})"


@dataclass
class Systematic:
    """What Schemathesis's coverage phase says of one operation, read once per scan."""

    #: Each enum and boolean value of each query/body parameter, and the bounds of paging parameters.
    variants: list[Variant] = field(default_factory=list)
    #: A valid value for every top-level body property (Schemathesis's "valid object").
    properties: dict = field(default_factory=dict)
    #: Numeric query parameter -> (minimum, maximum), where the schema bounds it.
    bounds: dict[str, tuple] = field(default_factory=dict)


def systematic(operation: Operation) -> Systematic:
    """The operation's systematic values, from Schemathesis's deterministic coverage phase.

    Coverage cases vary one parameter at a time from a default request; only the varied value is kept
    here (the sweep puts it on its own base request). Schemathesis's default case carries each
    parameter's first enum value and the value ``true``, which no coverage case repeats: they are
    taken from it. An operation Schemathesis cannot cover gives no values (never an error)."""
    out = Systematic()
    try:
        cases = _coverage_cases(operation.st_operation)
    except Exception:  # an exotic schema: the sweep's other requests still go out
        return out
    default_query: dict = {}
    base_body = None
    seen: set[tuple[str, str, str]] = set()

    def add(where, name, value, why):
        key = (where, name, repr(value))
        if value is not None and key not in seen:
            seen.add(key)
            out.variants.append(Variant(where, name, value, why))

    for case in cases:
        data = case._meta.phase.data
        scenario = str(data.scenario.value)
        location = getattr(data.parameter_location, "value", None)
        query = dict(case.query or {})
        if scenario == "default_positive_test":
            default_query = query
        elif location == "query" and scenario in _QUERY_VALUES and data.parameter in query:
            add("query", data.parameter, default_query.get(data.parameter), _QUERY_VALUES[scenario])
            add("query", data.parameter, query[data.parameter], _QUERY_VALUES[scenario])
        elif location == "query" and scenario in _BOUNDS and data.parameter in query:
            low, high = out.bounds.get(data.parameter, (None, None))
            value = query[data.parameter]
            out.bounds[data.parameter] = (value, high) if scenario == "minimum_value" else (low, value)
            if data.parameter in PAGING_PARAMS:
                add("query", data.parameter, value, _BOUNDS[scenario])
        elif location == "body" and scenario == "valid_object" and isinstance(case.body, dict):
            if base_body is None:
                base_body = dict(case.body)
                out.properties = dict(base_body)
                continue
            found = _BODY_VALUE.match(data.description or "")
            if found and found.group(1) in case.body:
                name = found.group(1)
                why = "enum" if found.group(2) == "Enum value" else "boolean"
                add("body", name, base_body.get(name), why)
                add("body", name, case.body[name], why)
    return out


def _coverage_cases(st_operation) -> list:
    schema = st_operation.schema
    config = schema.config.generation_for(operation=st_operation, phase="coverage")
    return list(schema.iter_coverage_cases(st_operation, generation_modes=[GenerationMode.POSITIVE],
                                           generation_config=config))
