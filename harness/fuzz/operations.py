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
