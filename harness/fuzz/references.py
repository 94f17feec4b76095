"""Body references: the id-like fields of a request body, filled with own ids, then swapped one at a time.

A generated update body is often ``{}`` (every field optional), so a field like ``project_id`` was
never sent and never attacked. Here every body property that names a resource (``*_id``, ``*_ids``,
or a name the scenario aliases) is put in the body with one of the principal's own ids, taken from
the object the request addresses when it has that field (``PATCH /invoices/{id}`` keeps the
invoice's own ``project_id``, so the base request is a valid no-op), and each is then swapped to a
foreign tenant's id in its own probe. The cross-reference oracle judges what the app stored.
"""

from __future__ import annotations

import copy
import random

from harness.fuzz.operations import Operation
from harness.fuzz.probes import Probe
from harness.scenario import Principal


def reference_table(ids, name: str, path: str) -> str | None:
    """The table a body field refers to: ``project_id`` and ``project_ids`` → ``projects``."""
    if name in ("id", "ids"):
        return None  # the addressed resource itself (``ids`` of a batch is an ordinary id location)
    table = ids.table_for(name, path)
    if table is None and name.endswith("_ids"):
        table = ids.table_for(name[:-1], path)
    return table


def references(ids, op: Operation, properties: dict, tenant_params=()) -> list[str]:
    """The body properties of ``op`` that name a resource, in schema order."""
    return [name for name in properties if name not in tenant_params and reference_table(ids, name, op.path)]


def with_references(probe: Probe, properties: dict, names: list[str], body: dict | None = None) -> Probe:
    """``probe`` (or its ``body`` replaced) with every reference property present, holding a valid
    placeholder that :func:`own_references` replaces with the principal's own id."""
    body = copy.deepcopy(probe.body if body is None else body)
    for name in names:
        body.setdefault(name, copy.deepcopy(properties.get(name)))
    return Probe(probe.operation, dict(probe.path_params), dict(probe.query), dict(probe.headers), body,
                 notes=["body references"], encoding=getattr(probe, "encoding", None))


def own_references(ids, probe: Probe, names: list[str], p: Principal, rng: random.Random) -> Probe:
    """``probe`` with each reference field holding the principal's own id (the addressed object's
    own value where it has the field, so that the base request changes nothing)."""
    probe = Probe(probe.operation, dict(probe.path_params), dict(probe.query), dict(probe.headers),
                  copy.deepcopy(probe.body), notes=list(probe.notes), encoding=getattr(probe, "encoding", None))
    op = probe.operation
    addressed = None
    inner = ids.innermost_ref(op.path)  # by its place in the path: the spec may list parameters in any order
    if inner is not None and inner[0] in probe.path_params:
        addressed = ids.get(inner[1].table, probe.path_params[inner[0]])
    for name in names:
        table = reference_table(ids, name, op.path)
        current = addressed.value(name) if addressed is not None else None
        if current is not None and not isinstance(probe.body.get(name), list):
            probe.body[name] = current
            continue
        picked = ids.pick(table, {p.tenant}, rng) or ids.pick(table, p.visible, rng)
        if picked is None:
            probe.body.pop(name, None)  # no own object to point at: leave the field out
            continue
        probe.body[name] = [picked[1]] if isinstance(probe.body.get(name), list) else picked[1]
    return probe


def foreign_references(ids, base: Probe, names: list[str], victim: str) -> list[Probe]:
    """One probe per reference field of ``base``, carrying ``victim``'s id there (own ids elsewhere)."""
    probes = []
    if not isinstance(base.body, dict):
        return probes
    for name in names:
        if name not in base.body:
            continue
        table = reference_table(ids, name, base.operation.path)
        foreign = ids.first(table, victim)
        if foreign is None:
            continue
        body = copy.deepcopy(base.body)
        value = body[name]
        body[name] = (value[:1] + [foreign]) if isinstance(value, list) else foreign
        probes.append(Probe(base.operation, dict(base.path_params), dict(base.query), dict(base.headers), body,
                            "foreign-id", victim, False, [f"body {name}"],
                            encoding=getattr(base, "encoding", None)))
    return probes
