"""Property 1, no foreign rows: nothing in a response to P belongs to a tenant outside V(P).

The whole body and the headers that can carry data (``Location``, ``Link``, ``Content-Disposition``
and custom ``X-`` headers) are scanned for markers in one Aho-Corasick pass each. A marker the
request itself carried (an id the fuzzer swapped in, a searched name) is reflection, not a leak: a
404 saying "project <foreign id> not found" tells nothing new. The request is compared as sent but
decoded (:func:`request_text`): ``q=Anna+Jankowski`` carried "Anna Jankowski". A value the app derived
from what was sent is reflection too: a slug ``acme-tools-2`` made from the name "Acme Tools" carries
the marker ``acme-tools`` only because the request did, so markers are also compared folded (case and
punctuation dropped) against the folded request.

A URL in ``Location``, ``Content-Location`` or ``Link`` is also read as what it is, an address: matched
against the spec's path templates, each parameter names an object of the world (``/w/acme/accounts/17``
→ account 17), so a redirect to another tenant's object is a leak even when its key is a small integer
that no text scan could attribute (:func:`url_check`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

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
    folded_request: str | None = None
    for where, text in parts:
        for hit in index.foreign_hits(text, visible):
            if hit.marker in reflected:
                continue
            if folded_request is None:  # only once a foreign hit needs it: the hot path stays one scan
                folded_request = fold(request_text or "")
            folded = fold(hit.marker)
            if folded and folded in folded_request:
                continue
            leaks.append(Leak(hit.owners, hit.marker, where, _locus(text, hit.start, where),
                              excerpt(text, hit.start, hit.end)))
    return leaks


_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Text as apps derive slugs and handles from it: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", text.lower())


def request_text(probe, body) -> str:
    """What a request carried, decoded: path parameters, query values, body and headers as the app
    reads them (not URL-encoded, not JSON-escaped), one value per line."""
    parts = [str(v) for v in probe.path_params.values()]
    for name, value in probe.query.items():
        parts += [str(name)] + ([str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)])
    if body is not None:
        parts.append(json.dumps(body, default=str, ensure_ascii=False))
        parts += [str(v) for v in _scalars(body)]
    parts += [f"{k}: {v}" for k, v in probe.headers.items()]
    return unquote(probe.path) + "\n" + "\n".join(parts)


def sent_values(probe, body) -> set[str]:
    """Every scalar value the request carried, as text (path, query, body)."""
    values = {str(v) for v in probe.path_params.values()}
    for value in probe.query.values():
        values |= {str(v) for v in value} if isinstance(value, (list, tuple)) else {str(value)}
    values |= {str(v) for v in _scalars(body)}
    for value in list(values):
        values |= set(value.split(","))
    return values


def _scalars(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _scalars(v)
    elif value is not None:
        yield value


URL_HEADERS = ("location", "content-location", "link")
_LINK = re.compile(r"<([^>]*)>")


def header_urls(headers) -> list[tuple[str, str]]:
    """(header, path) of every URL a response's address headers carry."""
    out = []
    for name, value in headers.items():
        lname = name.lower()
        if lname not in URL_HEADERS:
            continue
        urls = _LINK.findall(value) if lname == "link" else [value]
        out += [(lname, unquote(urlsplit(u.strip()).path)) for u in urls if u.strip()]
    return out


def _route(operations, path: str):
    """(operation, parameters) of the spec's path template ``path`` is an instance of, trying the path
    without its first segments too (an app mounted under a prefix)."""
    segments = path.split("/")
    for cut in range(0, min(4, len(segments))):
        candidate = "/".join([""] + segments[cut + 1:]) if cut else path
        for op in operations:
            if op.path_params and op.method in ("GET", "HEAD"):
                found = op.match(candidate)
                if found:
                    return op, found
    return None, None


def url_leaks(ids, operations, visible: frozenset[str], headers, sent: set[str]) -> list[Leak]:
    """Objects outside V(P) that a response's address headers point at (the request's own values
    excepted: echoing what was asked for is reflection)."""
    leaks = []
    for where, path in header_urls(headers):
        op, params = _route(operations, path)
        if op is None:
            continue
        for name, value in params.items():
            ref = ids.ref_for(name, op.path)
            if ref is None or value in sent:
                continue
            owners = ids.owners_of(ref, value)
            if owners and not owners & visible:
                start = path.find(value)
                leaks.append(Leak(owners, value, where, where,
                                  f"{excerpt(path, start, start + len(value))} names {ref.table} "
                                  f"{ref.column}={value}"))
    return leaks


def url_check(operations):
    """A check (:attr:`harness.exchange.Exchange.checks`) flagging address headers that point at
    another tenant's object; ``operations`` are the spec's, whose path templates name the objects."""
    async def check_header_urls(ex, obs) -> None:
        if not any(h.lower() in URL_HEADERS for h in obs.response.headers):
            return
        probe, p = obs.probe, obs.principal
        sent = sent_values(probe, obs.request.body)
        for leak in url_leaks(ex.ids, operations, p.visible, obs.response.headers, sent):
            ex.finding("foreign-row", "foreign-row", obs.phase, probe.operation.label, p,
                       ex.victim_label(leak.owners), f"{leak.where} header: {leak.evidence}", obs.request,
                       obs.status, leak.where)
    return check_header_urls
