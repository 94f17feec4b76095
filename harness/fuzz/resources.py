"""Which table an id parameter points at, and whose ids are whose.

Convention first (``project_id`` → ``projects``, ``time_entry_id`` → ``time_entries``, a list named
``ids`` under ``/projects/batch`` → ``projects``), then the scenario's aliases. The ids themselves come
from the world's ``id`` columns, grouped by owning tenant, so the fuzzer can put a principal's own
ids in a request (to reach a 2xx) or a foreign tenant's (to attack).
"""

from __future__ import annotations

import random
from collections import defaultdict

from harness.world import World


def plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


class ResourceIds:
    def __init__(self, world: World, aliases: dict[str, str] | None = None):
        self.aliases = dict(aliases or {})
        self.by_table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for table, rows in world.tables.items():
            column = world.tenant_columns.get(table)
            if not column or not rows or "id" not in rows[0]:
                continue
            for row in rows:
                self.by_table[table][str(row[column])].append(str(row["id"]))
        self.tables = set(self.by_table)

    def table_for(self, name: str, path: str = "") -> str | None:
        """The table an id parameter named ``name`` (in an operation at ``path``) refers to."""
        if name in self.aliases:
            return self.aliases[name]
        if name.endswith("_id"):
            table = plural(name[:-3])
            if table in self.tables:
                return table
        if name in ("id", "ids"):
            for segment in reversed([s for s in path.split("/") if s and not s.startswith("{")]):
                segment = segment.replace("-", "_")
                if segment in self.tables:
                    return segment
        return None

    def add(self, table: str, tenant: str, object_id: str) -> None:
        if table in self.tables:
            self.by_table[table][tenant].append(object_id)

    def remove(self, table: str, object_id: str) -> None:
        for ids in self.by_table.get(table, {}).values():
            if object_id in ids[1:]:
                ids.remove(object_id)

    def pick(self, table: str, tenants, rng: random.Random) -> tuple[str, str] | None:
        """(tenant, id) of a random object of ``table`` owned by one of ``tenants``.

        Each tenant's first id is kept out of the pool while it has others: it is the one attacks
        use, and a principal deleting its own random object must not delete the attack's target.
        """
        pool = []
        for t in sorted(tenants):
            ids = self.by_table.get(table, {}).get(t, [])
            pool += [(t, i) for i in (ids[1:] if len(ids) > 1 else ids)]
        return rng.choice(pool) if pool else None

    def first(self, table: str, tenant: str) -> str | None:
        ids = self.by_table.get(table, {}).get(tenant)
        return ids[0] if ids else None
