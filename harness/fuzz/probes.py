"""Concrete requests: a generated template, made into one principal's request.

Mutations are the attacks that find tenant leaks, which random data almost never does:
- ``own``: every id replaced by one the principal owns, so valid requests reach a 2xx (coverage);
- ``foreign-id``: one id (path, query, body or an ``ids`` list) replaced by a foreign tenant's (BOLA/IDOR);
- ``tamper``: the principal's own request plus a foreign tenant in a tenant header, query or body field;
- ``search``: a search/filter term taken from a foreign tenant's markers (list abuse).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from harness.errors import HarnessError
from harness.fuzz.operations import Operation, Template
from harness.fuzz.resources import ResourceIds
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
        tpl = tpl.clone()
        # Innermost path id first; an outer id is then taken from that row when it names it, so that
        # /projects/{project_id}/tasks/{task_id} gets the task's own project.
        chosen: dict | None = None
        for name in reversed(op.path_params):
            if chosen is not None and chosen.get(name):
                tpl.path_params[name] = chosen[name]
                continue
            self._set_own(op, tpl.path_params, name, p, innermost=chosen is None)
            chosen = self.ids.rows.get(str(tpl.path_params.get(name)), chosen)
        for name in list(tpl.query):
            if name in self.scenario.tenant_params:
                tpl.query.pop(name)
            elif self.ids.table_for(name, op.path):
                self._set_own(op, tpl.query, name, p)
        if isinstance(tpl.body, dict):
            for name in list(tpl.body):
                if name in self.scenario.tenant_params:
                    tpl.body.pop(name)
                elif self.ids.table_for(name, op.path):
                    self._set_own(op, tpl.body, name, p)
        headers = {k: v for k, v in tpl.headers.items() if k not in self.scenario.tenant_headers}
        return Probe(op, tpl.path_params, tpl.query, headers, tpl.body)

    def _own_id(self, table: str, p: Principal, prefer_created: bool = False) -> str | None:
        """An id the principal may use: what it created (to delete), else saw, else its tenant's."""
        if prefer_created:
            created = self.ids.created_by(p.name, table)
            if created:
                return created
        seen = self.ids.seen_by(p.name, table)
        if seen and self.rng.random() < 0.9:
            return self.rng.choice(seen)
        picked = self.ids.pick(table, {p.tenant}, self.rng) or self.ids.pick(table, p.visible, self.rng)
        return picked[1] if picked else None

    def _set_own(self, op: Operation, container: dict, name: str, p: Principal, innermost: bool = False) -> None:
        table = self.ids.table_for(name, op.path)
        if not table:
            return
        delete = innermost and op.method == "DELETE"
        value = container.get(name)
        first = self._own_id(table, p, prefer_created=delete)
        if first is None:
            return
        if isinstance(value, list):
            container[name] = [first] + [i for i in (self._own_id(table, p) for _ in range(min(len(value), 3) - 1)) if i]
        elif isinstance(value, str) and "," in value:
            container[name] = ",".join([first, self._own_id(table, p) or first])
        else:
            container[name] = first

    # -- attacks -------------------------------------------------------------------------------------
    def victims(self, p: Principal) -> list[str]:
        return [t for t in self.tenants if t not in p.visible]

    def foreign_ids(self, op: Operation, tpl: Template, p: Principal, victim: str,
                    chosen: dict[str, str] | None = None) -> list[Probe]:
        """One probe per id location, each carrying a ``victim`` id there and own ids elsewhere.

        ``chosen`` names the foreign id to use per table (the stateful phase passes the object the
        victim just created); otherwise the victim's first seeded id of that table is used."""
        probes = []
        base = self.own(op, tpl, p)
        chosen = chosen or {}

        def pick(table):
            return table and (chosen.get(table) or self.ids.first(table, victim))

        for name in op.path_params:
            table = self.ids.table_for(name, op.path)
            foreign = pick(table)
            if not foreign:
                continue
            probes.append(Probe(op, {**base.path_params, name: foreign}, dict(base.query), dict(base.headers),
                                _copy(base.body), "foreign-id", victim, True, [f"path {name}"]))
        containers = [("query", base.query)] + ([("body", base.body)] if isinstance(base.body, dict) else [])
        for where, container in containers:
            for name, value in list(container.items()):
                table = self.ids.table_for(name, op.path)
                foreign = pick(table)
                if not foreign:
                    continue
                probe = Probe(op, dict(base.path_params), dict(base.query), dict(base.headers), _copy(base.body),
                              "foreign-id", victim, False, [f"{where} {name}"])
                target = probe.query if where == "query" else probe.body
                if isinstance(value, list):
                    # Own id first: a batch that checks only its first element is the classic slip.
                    target[name] = (value[:1] or []) + [foreign]
                elif isinstance(value, str) and ("," in value or name.endswith("ids")):
                    # A batch (``ids=a,b``) even when the example held one id: own first, then foreign.
                    target[name] = value.split(",")[0] + "," + foreign
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
