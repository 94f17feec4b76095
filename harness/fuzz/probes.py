"""Concrete requests: a generated template, made into one principal's request.

Mutations are the attacks that find tenant leaks, which random data almost never does:
- ``own``: every id replaced by one the principal owns, so valid requests reach a 2xx (coverage);
- ``foreign-id``: one id (path, query, body or an ``ids`` list) replaced by a foreign tenant's (BOLA/IDOR);
- ``tamper``: the principal's own request plus a foreign tenant in a tenant header, query or body field;
- ``search``: a search/filter term taken from a foreign tenant's markers (list abuse);
- ``collide``: a create carrying another tenant's new values where values are unique per principal.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from harness.errors import HarnessError
from harness.fuzz.operations import Operation, Template
from harness.fuzz import unique
from harness.fuzz.fill import Filler
from harness.fuzz.resources import Obj, ResourceIds
from harness.scenario import Principal

SEARCH_PARAMS = ("q", "search", "query", "term", "name", "filter")


@dataclass
class Probe:
    operation: Operation
    path_params: dict
    query: dict
    headers: dict
    body: object
    attack: str = "own"
    victim: str | None = None  # foreign tenant whose id/name the request carries
    foreign_in_path: bool = False
    notes: list[str] = field(default_factory=list)
    #: How the body is sent: json | form | multipart (None: as the operation's request body declares).
    encoding: str | None = None
    #: The token in the values made unique to this request (harness/fuzz/unique.py), if any.
    token: str | None = None

    @property
    def path(self) -> str:
        path = self.operation.path
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        return path

    def url(self) -> str:
        qs = urlencode(self.query, doseq=True)
        return self.path + ("?" + qs if qs else "")


class ProbeBuilder:
    def __init__(self, ids: ResourceIds, tenants: list[str], scenario, rng: random.Random):
        self.ids = ids
        self.tenants = tenants
        self.scenario = scenario
        self.rng = rng

    # -- own ids -------------------------------------------------------------------------------------
    def own(self, op: Operation, tpl: Template, p: Principal) -> Probe:
        """``p``'s own request: its tenant, its objects, the scenario's values (see :mod:`harness.fuzz.fill`)."""
        path, query, headers, body, _, token = Filler(self).own(op, tpl.clone(), p)
        return Probe(op, path, query, headers, body, token=token)

    def variants(self, op: Operation, tpl: Template, p: Principal) -> list[Probe]:
        """``p``'s own request once per value the scenario supplies for a query parameter of ``op``."""
        probes = []
        for name, value in Filler(self).variants(op, tpl, p):
            base = self.own(op, tpl, p)
            probes.append(Probe(op, base.path_params, {**base.query, name: value}, base.headers, base.body,
                                notes=[f"query {name} from the scenario"]))
        return probes

    # -- attacks -------------------------------------------------------------------------------------
    def victims(self, p: Principal) -> list[str]:
        return [t for t in self.tenants if t not in p.visible]

    def foreign_ids(self, op: Operation, tpl: Template, p: Principal, victim: str,
                    chosen: dict[str, str] | None = None) -> list[Probe]:
        """One probe per id location, each carrying a ``victim`` id there and own ids elsewhere.

        ``chosen`` names the foreign object (or key) to use per table (the stateful phase passes the
        object the victim just created); otherwise the victim's first object of that table is used."""
        probes = []
        base = self.own(op, tpl, p)
        chosen = chosen or {}

        def pick(ref):
            """The victim's value for ``ref``: the chosen object's, else its first object's whose value
            no tenant in V(P) also holds (a value P may use itself proves nothing)."""
            if ref is None:
                return None
            given = chosen.get(ref.table)
            if isinstance(given, Obj):
                return given.value(ref.column)
            if given is not None:
                return given
            obj = self.ids.first_object(ref, victim, avoid=p.visible)
            return obj.value(ref.column) if obj else None

        for name in op.path_params:
            foreign = pick(self.ids.ref_for(name, op.path))
            if foreign is None:
                continue
            probes.append(Probe(op, {**base.path_params, name: foreign}, dict(base.query), dict(base.headers),
                                _copy(base.body), "foreign-id", victim, True, [f"path {name}"]))
        containers = [("query", base.query)] + ([("body", base.body)] if isinstance(base.body, dict) else [])
        for where, container in containers:
            for name, value in list(container.items()):
                foreign = pick(self.ids.ref_for(name, op.path, body=where == "body"))
                if foreign is None:
                    continue
                probe = Probe(op, dict(base.path_params), dict(base.query), dict(base.headers), _copy(base.body),
                              "foreign-id", victim, False, [f"{where} {name}"])
                target = probe.query if where == "query" else probe.body
                if isinstance(value, list):
                    # Own id first: a batch that checks only its first element is the classic slip.
                    target[name] = (value[:1] or []) + [foreign]
                elif isinstance(value, str) and ("," in value or name.endswith("ids")):
                    # A batch (``ids=a,b``) even when the example held one id: own first, then foreign.
                    target[name] = value.split(",")[0] + "," + str(foreign)
                else:
                    target[name] = foreign
                probes.append(probe)
        return probes

    def tamper(self, op: Operation, tpl: Template, p: Principal, victim: str) -> list[Probe]:
        base = self.own(op, tpl, p)
        probes = []
        for header in self.scenario.tenant_headers:
            probes.append(Probe(op, dict(base.path_params), dict(base.query), {**base.headers, header: victim},
                                _copy(base.body), "tamper", victim, notes=[f"header {header}"]))
        name = self.scenario.tenant_params[0]
        probes.append(Probe(op, dict(base.path_params), {**base.query, name: victim}, dict(base.headers), _copy(base.body),
                            "tamper", victim, notes=[f"query {name}"]))
        if isinstance(base.body, dict):
            probes.append(Probe(op, dict(base.path_params), dict(base.query), dict(base.headers), {**base.body, name: victim},
                                "tamper", victim, notes=[f"body {name}"]))
        return probes

    def search(self, op: Operation, tpl: Template, p: Principal, victim: str, term: str) -> list[Probe]:
        base = self.own(op, tpl, p)
        names = [n for n in op.query_params if n in SEARCH_PARAMS]
        return [Probe(op, dict(base.path_params), {**base.query, n: term}, dict(base.headers), _copy(base.body), "search",
                      victim, notes=[f"query {n}"]) for n in names]


    def collide(self, op: Operation, tpl: Template, p: Principal, victim: str) -> list[Probe]:
        """``p``'s create carrying, in the fields made unique per principal, the values of ``victim``'s
        newest object of that type created during the run: a uniqueness check that looks across tenants
        shows with it (a 409 naming the other tenant's row, a status telling that the value exists)."""
        if op.method != "POST" or not op.has_body:
            return []
        table = self.ids.table_of_path(op.path)
        made = self.ids.created_in(table, victim) if table else []
        if not made:
            return []
        base = self.own(op, tpl, p)
        if not isinstance(base.body, dict):
            return []
        theirs = made[-1].fields
        names = [n for n in unique.unique_fields(unique.body_schema(op))
                 if n in base.body and isinstance(theirs.get(n), str)]
        if not names:
            return []
        body = {**base.body, **{n: theirs[n] for n in names}}
        return [Probe(op, base.path_params, base.query, base.headers, body, "collide", victim,
                      notes=[f"body {', '.join(names)} as another tenant's new {table}"])]


def _copy(body):
    return copy.deepcopy(body)


def probe_from_request(finding: dict, operations) -> Probe:
    """The probe that sends a recorded finding's request again (replay, reproduce)."""
    request = finding["request"]
    op = next((o for o in operations if o.label == finding["operation"]), None)
    if op is None:
        raise HarnessError(f"operation {finding['operation']} is no longer in the spec")
    parts = urlsplit(request["url"])
    path_params = op.match(parts.path) or {}
    query: dict = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    query = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
    headers = {k: v for k, v in (request.get("headers") or {}).items() if v != "***"}
    return Probe(op, path_params, query, headers, request.get("body"), attack="replay",
                 foreign_in_path=finding["kind"] == "object-level")
