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
from urllib.parse import quote, urlencode

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
        for name in op.path_params:
            self._set_own(op, tpl.path_params, name, p)
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

    def _set_own(self, op: Operation, container: dict, name: str, p: Principal) -> None:
        table = self.ids.table_for(name, op.path)
        if not table:
            return
        value = container.get(name)
        picked = self.ids.pick(table, {p.tenant}, self.rng) or self.ids.pick(table, p.visible, self.rng)
        if picked is None:
            return
        if isinstance(value, list):
            n = max(1, min(len(value), 3))
            container[name] = [(self.ids.pick(table, {p.tenant}, self.rng) or picked)[1] for _ in range(n)]
        elif isinstance(value, str) and "," in value:
            container[name] = ",".join((self.ids.pick(table, {p.tenant}, self.rng) or picked)[1] for _ in range(2))
        else:
            container[name] = picked[1]

    # -- attacks -------------------------------------------------------------------------------------
    def victims(self, p: Principal) -> list[str]:
        return [t for t in self.tenants if t not in p.visible]

    def foreign_ids(self, op: Operation, tpl: Template, p: Principal, victim: str) -> list[Probe]:
        """One probe per id location, each carrying a ``victim`` id there and own ids elsewhere."""
        probes = []
        base = self.own(op, tpl, p)
        for name in op.path_params:
            table = self.ids.table_for(name, op.path)
            foreign = table and self.ids.first(table, victim)
            if not foreign:
                continue
            probes.append(Probe(op, {**base.path_params, name: foreign}, dict(base.query), dict(base.headers),
                                _copy(base.body), "foreign-id", victim, True, [f"path {name}"]))
        containers = [("query", base.query)] + ([("body", base.body)] if isinstance(base.body, dict) else [])
        for where, container in containers:
            for name, value in list(container.items()):
                table = self.ids.table_for(name, op.path)
                foreign = table and self.ids.first(table, victim)
                if not foreign:
                    continue
                probe = Probe(op, dict(base.path_params), dict(base.query), dict(base.headers), _copy(base.body),
                              "foreign-id", victim, False, [f"{where} {name}"])
                target = probe.query if where == "query" else probe.body
                if isinstance(value, list):
                    # Own id first: a batch that checks only its first element is the classic slip.
                    target[name] = (value[:1] or []) + [foreign]
                elif isinstance(value, str) and "," in value:
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
