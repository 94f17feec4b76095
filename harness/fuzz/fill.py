"""A principal's own request: every parameter the world can fill, filled with the principal's values.

A generated request names random objects; to reach a 2xx (coverage) it must name the principal's own.
Parameters are filled in this order:

1. the **tenant in the path** (a parameter naming a tenants table, e.g. ``ws`` → ``workspaces.slug``):
   the principal's home tenant; the request's other objects are then taken from that tenant;
2. the other **path parameters**, innermost first; an outer one is taken from the inner object when it
   names it (``/projects/{project_id}/tasks/{task_id}``: the task's own ``project_id``);
3. **query and body references** (``account_id`` → ``accounts.id``): the principal's own objects;
   a tenant field (``tenant_id``) is dropped: tampering is an attack of its own;
4. **scenario values** (``parameter_values``) for what the spec cannot give: a list, or
   ``"table.column"`` meaning this principal's own values of that column (every row's, for a shared
   table); a query parameter the generated request left out is added in half of the requests, so both
   the filtered and the unfiltered branch are reached;
5. every other **generated string** of an unsafe request's body is made unique to the principal and
   the request (:mod:`harness.fuzz.unique`).
"""

from __future__ import annotations

import re

from harness.fuzz import unique
from harness.fuzz.resources import Obj, Ref, ResourceIds

_PATH_PARAM = re.compile(r"\{(\w+)\}")


def path_order(op) -> list[str]:
    """The operation's path parameters in the order they appear in its path."""
    names = _PATH_PARAM.findall(op.path)
    return names + [n for n in op.path_params if n not in names]


def supplied(scenario, op, name: str):
    """The scenario's values for parameter ``name`` of ``op`` (per operation first), or None."""
    values = getattr(scenario, "parameter_values", None) or {}
    scoped = values.get(op.label)
    if isinstance(scoped, dict) and name in scoped:
        return scoped[name]
    found = values.get(name)
    return None if isinstance(found, dict) else found


def supplied_choices(ids: ResourceIds, source, tenants) -> list:
    """The concrete values of a scenario's value source: a list as given, ``"table.column"`` resolved."""
    if isinstance(source, str):
        table, _, column = source.partition(".")
        ref = Ref(table, column or "id")
        # A principal's own login is never supplied (adding it somewhere would change its V(P)).
        return [v for v in ids.values(ref, tenants) if not ids.names_principal(ref, v)]
    if isinstance(source, (list, tuple)):
        return list(source)
    return [source]


class Filler:
    """Fills one template as one principal; ``builder`` gives the store, scenario and random source."""

    def __init__(self, builder):
        self.ids: ResourceIds = builder.ids
        self.scenario = builder.scenario
        self.rng = builder.rng

    def own(self, op, tpl, p) -> tuple[dict, dict, dict, object, str | None, str | None]:
        """(path params, query, headers, body, the request's tenant, the token its unique values carry)
        of ``p``'s own request."""
        ids, scenario = self.ids, self.scenario
        path, query, body = tpl.path_params, tpl.query, tpl.body
        tenant = None
        filled: set[str] = set()
        order = path_order(op)
        for name in order:  # 1. the tenant in the path
            ref = ids.ref_for(name, op.path)
            if ref and ids.is_tenant_table(ref.table):
                home = ids.first_object(ref, p.tenant)
                if home is not None:
                    path[name], tenant = home.value(ref.column), p.tenant
                    filled.add(name)
        chosen: Obj | None = None
        for i, name in enumerate(reversed(order)):  # 2. the other path parameters, innermost first
            if name in filled:
                continue
            if chosen is not None and name in chosen.fields:
                path[name] = chosen.fields[name]
                filled.add(name)
                ref = ids.ref_for(name, op.path)
                parents = ids.find(ref.table, ref.column, path[name]) if ref else []
                chosen = parents[0] if parents else chosen
                continue
            obj = self._set(op, path, name, p, tenant, delete=i == 0 and op.method == "DELETE")
            if obj is not None:
                filled.add(name)
                chosen = obj
        for name in list(query):  # 3. query references
            if name in scenario.tenant_params:
                query.pop(name)
            elif ids.ref_for(name, op.path):
                self._set(op, query, name, p, tenant)
        body_filled: set[str] = set()
        if isinstance(body, dict):
            for name in list(body):
                if name in scenario.tenant_params:
                    body.pop(name)
                elif ids.ref_for(name, op.path, body=True) and self._set(op, body, name, p, tenant, body=True):
                    body_filled.add(name)
        self._supply(op, path, query, body, p, tenant, body_filled)  # 4. the scenario's values
        tok = None
        if not op.safe and isinstance(body, dict) and getattr(scenario, "unique_values", True):
            tok = unique.token(p.name, ids.next_serial(p.name))  # 5. unique generated strings
            if not unique.make_unique(body, unique.body_schema(op), tok, frozenset(body_filled)):
                tok = None
        headers = {k: v for k, v in tpl.headers.items() if k not in scenario.tenant_headers}
        return path, query, headers, body, tenant, tok

    def _set(self, op, container: dict, name: str, p, tenant, body: bool = False,
             delete: bool = False) -> Obj | None:
        ref = self.ids.ref_for(name, op.path, body)
        if ref is None:
            return None
        obj = self.ids.own_object(ref, p, self.rng, tenant, prefer_created=delete)
        if obj is None:
            return None
        first = obj.value(ref.column)
        value = container.get(name)
        if isinstance(value, list):
            more = [self.ids.own_object(ref, p, self.rng, tenant) for _ in range(min(len(value), 3) - 1)]
            container[name] = [first] + [o.value(ref.column) for o in more if o is not None]
        elif isinstance(value, str) and "," in value:
            other = self.ids.own_object(ref, p, self.rng, tenant) or obj
            container[name] = ",".join([str(first), str(other.value(ref.column))])
        else:
            container[name] = first
        return obj

    def _supply(self, op, path: dict, query: dict, body, p, tenant, body_filled: set) -> None:
        values = getattr(self.scenario, "parameter_values", None)
        if not values:
            return
        tenants = {tenant or p.tenant}
        for name in list(path):
            source = supplied(self.scenario, op, name)
            if source is not None and not self.ids.ref_for(name, op.path):
                choices = supplied_choices(self.ids, source, tenants)
                if choices:
                    path[name] = self.rng.choice(choices)
        for name in op.query_params:
            source = supplied(self.scenario, op, name)
            if source is None or (name not in query and self.rng.random() < 0.5):
                continue
            choices = supplied_choices(self.ids, source, tenants)
            if choices:
                query[name] = self.rng.choice(choices)
        if isinstance(body, dict):
            props = (unique.body_schema(op) or {}).get("properties") or {}
            for name in set(body) | set(props):
                source = supplied(self.scenario, op, name)
                if source is None or name in body_filled:
                    continue
                choices = supplied_choices(self.ids, source, tenants)
                if choices:
                    body[name] = self.rng.choice(choices)
                    body_filled.add(name)

    def variants(self, op, tpl, p) -> list[tuple[str, object]]:
        """(query parameter, value) pairs the scenario supplies for ``op``: the sweep sends each once,
        so that a filter branch keyed on a real value is reached deterministically."""
        out = []
        for name in op.query_params:
            source = supplied(self.scenario, op, name)
            if source is None:
                continue
            choices = supplied_choices(self.ids, source, {p.tenant})
            out += [(name, v) for v in choices[:3]]
        return out
