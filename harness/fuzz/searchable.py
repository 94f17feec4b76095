"""Which fields a list operation's search parameter searches, learned from the principal's own data.

The sweep searches each list with a victim's values: a search that forgets the tenant shows the
victim's rows. Guessing the term (the first name-like value of the victim) misses whenever that value
is in a field the search does not look at. So before the sweep, for each operation with a search
parameter (``q``, ``search``, ``name``…), one principal searches for its *own* values, field by field
(``accounts.name``, ``contacts.email``…; every table's fields for a search across types): a field whose
value brings back an item carrying it is searchable. The victim's terms are then its values of those
fields (:func:`terms`), at most :data:`MAX_TERMS` per operation. Bounded: :data:`MAX_PROBES` requests
per operation and principal, at most two principals per operation.
"""

from __future__ import annotations

import random

from harness.fuzz.probes import SEARCH_PARAMS
from harness.fuzz.resources import Ref
from harness.markers import is_candidate

MAX_TERMS = 3
MAX_PROBES = 24
MAX_LENGTH = 80  # a longer value (a hash, a body of text) is no search term


def search_params(op) -> list[str]:
    return [n for n in op.query_params if n in SEARCH_PARAMS]


def candidates(ctx, op, tenant: str) -> list[tuple[Ref, list]]:
    """(field, up to two of ``tenant``'s own values of it) for every text field that identifies (keys
    and references excepted: nobody searches by them): the operation's own table, else every table of
    tenant data in world order."""
    ids, index = ctx.ids, ctx.index
    table = ids.table_of_path(op.path)
    tables = [table] if table else [t for t in ctx.world.tables if t in ids.tables and not ids.is_tenant_table(t)]
    out = []
    for t in tables:
        columns: dict[str, list] = {}
        key = ids.keys.get(t, "id")
        for obj in ids.objects(t, {tenant}):
            for column, value in obj.fields.items():
                if column == key or column.endswith("_id") or not isinstance(value, str) or len(value) > MAX_LENGTH:
                    continue
                if index.owners(_marker(value)) == frozenset({tenant}):
                    values = columns.setdefault(column, [])
                    if len(values) < 2 and value not in values:
                        values.append(value)
        out += [(Ref(t, column), values) for column, values in columns.items()]
    return out


def _marker(value: str) -> str:
    return is_candidate(value) or value


def lists(data, value: str) -> bool:
    """True when ``data`` (a JSON answer) holds an item, inside a list, with a field equal to ``value``."""
    if isinstance(data, dict):
        return any(lists(v, value) for v in data.values() if isinstance(v, (dict, list)))
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and any(v == value for v in item.values()):
                return True
            if isinstance(item, (dict, list)) and lists(item, value):
                return True
    return False


def shows(response, value: str) -> bool:
    """True when a 2xx answer lists an item carrying ``value`` (JSON), or holds it at all (CSV, text)."""
    if "json" in response.headers.get("content-type", ""):
        try:
            return lists(response.json(), value)
        except ValueError:
            return False
    return value in response.text


async def learn(ctx) -> dict[str, list[Ref]]:
    """operation label -> its searchable fields; stored on ``ctx.searchable`` for :func:`terms`."""
    ex = ctx.exchange
    builder = ctx.builder(random.Random(f"{ctx.opt.seed}:searchable"))
    learned: dict[str, list[Ref]] = {}
    for op in ctx.operations:
        params = search_params(op)
        if op.method != "GET" or not params:
            continue
        found: list[Ref] = []
        allowed = [p for p in ctx.principals if (op.label, p.name) not in ex.coverage.forbidden]
        tried: set[str] = set()
        for p in allowed:
            if p.tenant in tried or len(tried) >= 2 or found:
                break
            tried.add(p.tenant)
            sent = 0
            for ref, values in candidates(ctx, op, p.tenant):
                if sent >= MAX_PROBES or len(found) >= MAX_TERMS:
                    break
                for value in values:
                    if sent >= MAX_PROBES:
                        break
                    probe = builder.own(op, ctx.templates[op.label][0], p)
                    probe.query = {**probe.query, params[0]: value}
                    probe.notes = [f"searchable? {ref}"]
                    sent += 1
                    response = await ex.send(ctx.target.clients[p.name], p, probe, "sweep", record=False)
                    if response is None or not 200 <= response.status_code < 300:
                        continue
                    if shows(response, value):
                        found.append(ref)
                        break
        learned[op.label] = found
    ctx.searchable = learned
    return learned


def terms(ctx, victim: str, op) -> list[str]:
    """Up to :data:`MAX_TERMS` of ``victim``'s values of the fields ``op`` was seen to search, each a
    value only the victim holds."""
    out = []
    for ref in (getattr(ctx, "searchable", None) or {}).get(op.label, ()):
        for obj in ctx.ids.objects(ref.table, {victim}):
            value = obj.fields.get(ref.column)
            if isinstance(value, str) and ctx.index.owners(_marker(value)) == frozenset({victim}) \
                    and value not in out:
                out.append(value)
                break
        if len(out) >= MAX_TERMS:
            break
    return out
