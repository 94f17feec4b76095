"""Hypothesis strategies for reporting-query parameters, derived from their typed schema.

Edges matter more than the middle: the first and last day of the range, the bounds of every int,
every enum value; Hypothesis reaches them through ``one_of(just(edge), …)``. A ``*_from``/``*_to``
pair is ordered so that most generated ranges are valid (the rest must be rejected cleanly).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, Phase, given, seed as hseed, settings
from hypothesis import strategies as st

from harness.scenario import Query, QueryParam

DEFAULT_DATES = (dt.date(2024, 1, 1), dt.date(2027, 12, 31))


def _as_date(value, fallback: dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return fallback


def param_strategy(p: QueryParam) -> st.SearchStrategy:
    if p.type == "date":
        lo, hi = _as_date(p.minimum, DEFAULT_DATES[0]), _as_date(p.maximum, DEFAULT_DATES[1])
        return st.one_of(st.sampled_from([lo, hi]), st.dates(lo, hi)).map(dt.date.isoformat)
    if p.type == "int":
        lo = p.minimum if p.minimum is not None else 0
        hi = p.maximum if p.maximum is not None else 1000
        return st.one_of(st.sampled_from([lo, hi]), st.integers(lo, hi))
    if p.type in ("enum", "currency"):
        return st.sampled_from(list(p.choices))
    if p.type == "bool":
        return st.booleans()
    return st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


def params_strategy(query: Query) -> st.SearchStrategy[dict]:
    fields = {}
    for p in query.params:
        strategy = param_strategy(p)
        fields[p.name] = strategy if p.required else st.one_of(st.none(), strategy)

    def build(values: dict) -> dict:
        out = {k: v for k, v in values.items() if v is not None}
        for name in list(out):
            if name.endswith("_from"):
                other = name[:-5] + "_to"
                if other in out and out[name] > out[other]:
                    out[name], out[other] = out[other], out[name]
        return out

    return st.fixed_dictionaries(fields).map(build)


def defaults(query: Query) -> dict:
    return {p.name: p.default for p in query.params if p.default is not None}


def generate(query: Query, count: int, seed: int) -> list[dict]:
    """The defaults first (what a dashboard sends), then ``count`` generated parameter sets."""
    out = [defaults(query)]

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(params_strategy(query))
    def collect(params):
        out.append(params)

    if count:
        collect()
    return out


def every_value(query: Query) -> list[dict]:
    """Each value of each enum, currency and boolean parameter once, the defaults for the rest.

    Random parameter sets rarely reach a given enum value with a sensible rest, and a report's enum
    often picks the branch of its SQL (``group_by=assignee`` adds a UNION branch): every branch must be
    run at least once, in every profile. Values equal to the default are already in :func:`generate`.
    """
    base = defaults(query)
    out = []
    for p in query.params:
        if p.type == "bool":
            values = [True, False]
        elif p.type in ("enum", "currency"):
            values = list(p.choices)
        else:
            continue
        out += [{**base, p.name: value} for value in values if base.get(p.name) != value]
    return out
