"""Dividing one scan between processes (``pytest -n N``), deterministically, by label.

Operations are divided by resource, not one by one: a resource's list, detail, create, nested
operations and delete stay in one process, in their usual order, so that what the list teaches (ids)
and what the create makes are there for the rest, as in a serial run. A resource is the first
collection of the path (a segment followed by a parameter, ``/projects/{id}``) that is not a scope most
operations live under (a tenant or workspace in the path, ``/w/{slug}/accounts``); a path without one belongs to
the segment after the prefix it shares with the other paths (``/api/dashboard/kpis/summary``: ``kpis``).
Resources go to the least-loaded share, biggest first; queries follow, one by one. Every process
computes the same division from the same spec, so nobody has to hand it out.
"""

from __future__ import annotations

from collections import Counter


def _segments(label: str) -> list[str]:
    return [s for s in label.split(" ", 1)[-1].split("/") if s]


def resources(operations: list[str]) -> dict[str, str]:
    """Operation label -> its resource key."""
    paths = {label: _segments(label) for label in operations}
    scoping: Counter = Counter()  # collection -> paths that go on past its parameter (/w/{slug}/...)
    collections = set()
    for segs in paths.values():
        for i in range(len(segs) - 1):
            if not segs[i].startswith("{") and segs[i + 1].startswith("{"):
                collections.add(tuple(segs[:i + 1]))
                scoping[tuple(segs[:i + 1])] += i + 2 < len(segs)
    half = len(paths) / 2
    out = {}
    for label, segs in paths.items():
        key = next((prefix for i in range(len(segs)) if (prefix := tuple(segs[:i + 1])) in collections
                    and scoping[prefix] <= half), None)
        if key is None:
            shared = max((_common(segs, other) for o, other in paths.items() if o != label), default=0)
            key = tuple(segs[:shared + 1])
        out[label] = "/" + "/".join(key)
    return out


def _common(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def divide(operations: list[str], queries: list[str], count: int) -> list[tuple[set[str], set[str]]]:
    """``count`` shares of (operation labels, query names); each label in exactly one share."""
    count = max(1, int(count))
    groups: dict[str, list[str]] = {}
    for label, key in resources(operations).items():
        groups.setdefault(key, []).append(label)
    shares = [(set(), set()) for _ in range(count)]
    load = [0] * count
    for name in sorted(groups, key=lambda g: (-len(groups[g]), g)):
        i = min(range(count), key=lambda k: (load[k], k))
        shares[i][0].update(groups[name])
        load[i] += len(groups[name])
    for name in sorted(queries):
        i = min(range(count), key=lambda k: (load[k], k))
        shares[i][1].add(name)
        load[i] += 1
    return shares


def share(operations: list[str], queries: list[str], index: int, count: int) -> tuple[set[str], set[str]]:
    return divide(operations, queries, count)[index]
