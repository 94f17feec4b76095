"""Property 2, non-interference: worlds that agree on V(P) must give P the same answer.

This catches what carries no foreign row at all: a sum over every tenant, a total count, an
"exists". Two runs against the *same* world first calibrate a mask (timestamps, generated ids,
anything that differs between identical requests); then the base world and a twin whose tenants
outside V(P) were perturbed are compared under that mask. Any remaining difference is a leak.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


def flatten(value, prefix: str = "$") -> dict[str, object]:
    """JSON → {path: scalar}; list items keep their index (order is part of the answer)."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}"))
    elif isinstance(value, list):
        out[f"{prefix}.length"] = len(value)
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def parse(status: int, text: str) -> dict[str, object]:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = {"text": text}
    flat = flatten(body)
    flat["$status"] = status
    return flat


def calibrate(first: dict, second: dict, volatile: Iterable[str] = ()) -> set[str]:
    """Paths whose value differs between two identical requests, plus volatile field names."""
    names = set(volatile)
    mask = {p for p in first.keys() | second.keys() if first.get(p) != second.get(p)}
    mask |= {p for p in first.keys() | second.keys() if _leaf(p) in names}
    return mask


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def differences(base: dict, twin: dict, mask: set[str]) -> list[tuple[str, object, object]]:
    """(path, base value, twin value) for every unmasked difference, sorted by path."""
    diffs = []
    for path in sorted(base.keys() | twin.keys()):
        if path in mask or _masked_prefix(path, mask):
            continue
        if base.get(path, "<absent>") != twin.get(path, "<absent>"):
            diffs.append((path, base.get(path, "<absent>"), twin.get(path, "<absent>")))
    return diffs


def _masked_prefix(path: str, mask: set[str]) -> bool:
    # A masked list length masks its items (the list itself varies between identical runs).
    head = path
    while "[" in head:
        head = head.rsplit("[", 1)[0]
        if f"{head}.length" in mask:
            return True
    return False
