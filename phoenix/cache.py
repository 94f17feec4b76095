"""A small in-process TTL cache for the KPI summaries (they are expensive and read-mostly).

The key MUST contain the principal's tenant set: two tenants asking the same URL are two entries.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any


class ResponseCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 1024, *, tenant_keyed: bool = True):
        self.ttl = ttl
        self.max_entries = max_entries
        #: False only for the planted ``cache-key-without-tenant`` fault.
        self.tenant_keyed = tenant_keyed
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()

    def key(self, tenants: Sequence[str], path: str, query: str) -> tuple:
        if not self.tenant_keyed:
            # Planted (cache-key-without-tenant): the key was copied from the public-page cache,
            # which had no tenants; the first tenant to ask fills the entry for everyone.
            return (path, query)
        return (tuple(sorted(tenants)), path, query)

    def get(self, key: tuple) -> Any | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return hit[1]

    def put(self, key: tuple, value: Any) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
