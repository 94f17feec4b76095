"""The API's own pagination, followed the way its client would: the next page comes from the answer.

A later page is often served by other code than the first (a deep-OFFSET query moved to a replica, a
cursor decoded into a query of its own), so a list is only checked when its later pages are. The next
page is, in order: the ``Link: <…>; rel="next"`` header, a next-cursor field of the body
(``next_cursor``, ``next``, ``cursor``…, a token or a URL), else the offset (or page number) moved by
the page just read. The first page asks for a small page size, so that a small world has later pages.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from harness.fuzz.probes import Probe

CURSOR_FIELDS = ("next_cursor", "nextCursor", "next_page_token", "nextPageToken", "next", "cursor")
CURSOR_PARAMS = ("cursor", "page_token", "pageToken", "after", "starting_after", "next", "continuation")
SIZE_PARAMS = ("limit", "per_page", "page_size", "pageSize", "perPage", "size", "take")
OFFSET_PARAMS = ("offset", "skip", "start")
PAGE_PARAMS = ("page", "page_number", "pageNumber")
ITEM_FIELDS = ("items", "data", "results", "records", "rows", "entries")
#: Rows per page asked for on the first page (within the schema's bounds).
SMALL_PAGE = 2


def _first(names, available) -> str | None:
    return next((n for n in names if n in available), None)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def first_page(probe: Probe, bounds: dict) -> Probe | None:
    """The list request from its start with a small page size; None when the operation has no paging
    parameter (its pages, if any, are then followed from its ordinary answer)."""
    params = probe.operation.query_params
    size, offset = _first(SIZE_PARAMS, params), _first(OFFSET_PARAMS + PAGE_PARAMS + CURSOR_PARAMS, params)
    if size is None and offset is None:
        return None
    query = {k: v for k, v in probe.query.items() if k not in OFFSET_PARAMS + PAGE_PARAMS + CURSOR_PARAMS}
    if size is not None:
        low, high = bounds.get(size, (None, None))
        n = max(SMALL_PAGE, _int(low, 1))
        query[size] = min(n, _int(high, n))
    return _with(probe, probe.path_params, query, "first page")


def items_of(data) -> list | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for name in ITEM_FIELDS:
            if isinstance(data.get(name), list):
                return data[name]
    return None


def _cursor(data) -> str | None:
    if not isinstance(data, dict):
        return None
    places = [data] + [data[k] for k in ("meta", "pagination", "paging", "links", "page") if isinstance(data.get(k), dict)]
    for place in places:
        for name in CURSOR_FIELDS:
            value = place.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def next_page(probe: Probe, response) -> Probe | None:
    """The request for the page after ``response`` (the answer to ``probe``), or None at the end."""
    op = probe.operation
    link = response.links.get("next", {}).get("url") if response.headers.get("link") else None
    try:  # a huge page is not parsed (its objects would take ~10 times its size): its Link header still counts
        data = (response.json() if "json" in response.headers.get("content-type", "")
                and len(response.content) <= 4 << 20 else None)
    except ValueError:
        data = None
    cursor = _cursor(data)
    if link is None and cursor and (cursor.startswith("/") or "://" in cursor):
        link, cursor = cursor, None
    if link:
        parts = urlsplit(link)
        path_params = op.match(parts.path) if parts.path else probe.path_params
        if path_params is None:  # the next page of another resource: not this list
            return None
        return _with(probe, path_params, dict(parse_qsl(parts.query)), "next page (Link)")
    param = _first(CURSOR_PARAMS, op.query_params)
    if param and cursor:
        query = {k: v for k, v in probe.query.items() if k not in OFFSET_PARAMS + PAGE_PARAMS}
        return _with(probe, probe.path_params, {**query, param: cursor}, f"next page ({param})")
    if param and isinstance(data, dict) and any(name in data for name in CURSOR_FIELDS):
        return None  # a cursor-paged list that gave no next cursor: the end
    items = items_of(data)
    if not items:
        return None
    size = _first(SIZE_PARAMS, op.query_params)
    if size is not None and size in probe.query and len(items) < _int(probe.query[size], 0):
        return None
    offset = _first(OFFSET_PARAMS, op.query_params)
    if offset is not None:
        return _with(probe, probe.path_params, {**probe.query, offset: _int(probe.query.get(offset), 0) + len(items)},
                     f"next page ({offset})")
    page = _first(PAGE_PARAMS, op.query_params)
    if page is not None:
        return _with(probe, probe.path_params, {**probe.query, page: _int(probe.query.get(page), 1) + 1},
                     f"next page ({page})")
    return None


def _with(probe: Probe, path_params: dict, query: dict, note: str) -> Probe:
    return Probe(probe.operation, dict(path_params), query, dict(probe.headers), probe.body, "page",
                 notes=[note], encoding=getattr(probe, "encoding", None))
