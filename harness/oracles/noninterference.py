"""Property 2, non-interference: worlds that agree on V(P) must give P the same answer.

This catches what carries no foreign row at all: a sum over every tenant, a total count, an "exists",
a header counted or dated across tenants (``X-Total-Count``, ``ETag``, ``Last-Modified``), a status
that depends on another tenant's data (a create refused with 409 because another tenant holds the
value). An answer is its status, its body (JSON flattened to paths) and its headers.

Each request goes to the base world, then to the twin whose tenants outside V(P) were perturbed, then
to a second, identical base world. What differs between the two bases varies by itself (timestamps,
generated ids, a clock at second resolution: the twin's send lies between the two, so a clock that
moved for the twin moved between the bases too) and is masked; any other difference between the base
and the twin is a leak.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

#: Headers that differ for reasons other than data: the transport's clock and server, and the body's
#: length (a consequence: the body itself is compared). Everything else is compared, after calibration.
IGNORED_HEADERS = frozenset({"date", "server", "content-length", "transfer-encoding", "connection",
                             "keep-alive", "age", "expires", "via"})
HEADER = "$header."


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


def parse(status: int | None, text: str, headers: Iterable[tuple[str, str]] = ()) -> dict[str, object]:
    """One answer as flat paths: ``$status``, the body's paths, and ``$header.<name>`` per header."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = {"text": text}
    flat = flatten(body)
    if status is not None:
        flat["$status"] = status
    for name, value in headers:
        name = name.lower()
        if name not in IGNORED_HEADERS:
            key = HEADER + name
            flat[key] = f"{flat[key]}, {value}" if key in flat else value
    return flat


#: Bodies larger than this are compared by digest: their parsed paths would take ~10 times their size.
DIGEST_OVER = 4 << 20


def answer(response) -> dict[str, object]:
    """An ``httpx.Response`` as flat paths (see :func:`parse`); a huge body as its digest."""
    if len(response.content) > DIGEST_OVER:
        import hashlib

        flat = parse(response.status_code, "", response.headers.multi_items())
        flat["$body.sha256"] = hashlib.sha256(response.content).hexdigest()
        return flat
    return parse(response.status_code, response.text, response.headers.multi_items())


def identical(first, second) -> bool:
    """Two ``httpx.Response`` objects with the same status, bytes and compared headers: the common case,
    decided without parsing either body."""
    return (first.status_code == second.status_code and first.content == second.content
            and _compared_headers(first) == _compared_headers(second))


def _compared_headers(response) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in IGNORED_HEADERS)


def calibrate(first: dict, second: dict, volatile: Iterable[str] = ()) -> set[str]:
    """Paths whose value differs between two identical requests, plus volatile field names."""
    names = set(volatile)
    mask = {p for p in first.keys() | second.keys() if first.get(p) != second.get(p)}
    mask |= {p for p in first.keys() | second.keys() if _leaf(p) in names}
    return mask


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def differences(base: dict, twin: dict, mask: set[str]) -> list[tuple[str, object, object]]:
    """(path, base value, twin value) for every unmasked difference: status, then body, then headers."""
    diffs = []
    for path in sorted(base.keys() | twin.keys(), key=_rank):
        if path in mask or _masked_prefix(path, mask):
            continue
        if base.get(path, "<absent>") != twin.get(path, "<absent>"):
            diffs.append((path, base.get(path, "<absent>"), twin.get(path, "<absent>")))
    return diffs


def _rank(path: str) -> tuple[int, str]:
    return (0 if path == "$status" else 2 if path.startswith(HEADER) else 1), path


def locus(path: str) -> str:
    """What the finding's id names: the header, or the body field (no list index: stable across data)."""
    if path == "$status":
        return "status"
    if path.startswith(HEADER):
        return "header:" + path[len(HEADER):]
    return path.split("]")[-1].lstrip(".") if "[" in path else path.split(".")[-1]


#: Characters of each differing value a finding shows: the evidence stays an excerpt, never a dump.
CLIP = 60


def clip_pair(base, twin, width: int = CLIP) -> tuple[str, str]:
    """``repr`` of two differing values, each cut to a window around where they first differ."""
    a, b = repr(base), repr(twin)
    if len(a) <= width and len(b) <= width:
        return a, b
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, start - width // 3)

    def cut(s: str) -> str:
        hi = min(len(s), lo + width)
        return ("…" if lo else "") + s[lo:hi] + ("…" if hi < len(s) else "")

    return cut(a), cut(b)


def _masked_prefix(path: str, mask: set[str]) -> bool:
    # A masked list length masks its items (the list itself varies between identical runs).
    head = path
    while "[" in head:
        head = head.rsplit("[", 1)[0]
        if f"{head}.length" in mask:
            return True
    return False
