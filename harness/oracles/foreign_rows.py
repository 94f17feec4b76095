"""Property 1, no foreign rows: nothing in a response to P belongs to a tenant outside V(P).

The whole body and the headers that can carry data (``Location``, ``Link``, ``Content-Disposition``
and custom ``X-`` headers) are scanned for markers in one Aho-Corasick pass each. A marker the
request itself carried (an id the fuzzer swapped in, a searched name) is reflection, not a leak: a
404 saying "project <foreign id> not found" tells nothing new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.findings import excerpt
from harness.markers import OwnershipIndex

DATA_HEADERS = ("location", "link", "content-disposition", "content-location")
_KEY_BEFORE = re.compile(r'"([A-Za-z_][\w.-]{0,40})"\s*:\s*(?:\[\s*)?"?[^"]*$')


@dataclass(frozen=True)
class Leak:
    owners: frozenset[str]
    marker: str
    where: str  # "body" or a header name
    locus: str  # the JSON key (or header) that carried it: part of the finding's stable id
    evidence: str


def response_parts(headers, body_text: str) -> list[tuple[str, str]]:
    parts = [("body", body_text)]
    for name, value in headers.items():
        lname = name.lower()
        if lname in DATA_HEADERS or lname.startswith("x-"):
            parts.append((lname, value))
    return parts


def _locus(text: str, start: int, where: str) -> str:
    if where != "body":
        return where
    window = text[max(0, start - 120):start]
    match = _KEY_BEFORE.search(window)
    if match:
        return match.group(1)
    if "," in text[:start].rsplit("\n", 1)[-1] or "\n" in text[:start]:
        return "csv-or-text"
    return "body"


def check(index: OwnershipIndex, visible: frozenset[str], request_text: str,
          parts: list[tuple[str, str]]) -> list[Leak]:
    leaks: list[Leak] = []
    reflected = {h.marker for h in index.scan(request_text)} if request_text else set()
    for where, text in parts:
        for hit in index.foreign_hits(text, visible):
            if hit.marker in reflected:
                continue
            leaks.append(Leak(hit.owners, hit.marker, where, _locus(text, hit.start, where),
                              excerpt(text, hit.start, hit.end)))
    return leaks
