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


def _singular(table: str) -> str:
    if table.endswith("ies"):
        return table[:-3] + "y"
    if table.endswith(("ses", "xes", "ches", "shes")):
        return table[:-2]
    return table[:-1] if table.endswith("s") else table


class ResourceIds:
    """Ids per table and owning tenant, plus what each principal has *seen* of them.

    A tenant's id is not always usable by every principal of that tenant (a notification belongs to
    one user, a dashboard may be private), so ids that a principal's own 2xx responses listed are
    preferred for its requests: learned from the API, not assumed. Rows are kept too, so that a
    nested path gets a consistent parent (``/projects/{project_id}/tasks/{task_id}``: the task's own
    ``project_id``).
    """

    def __init__(self, world: World, aliases: dict[str, str] | None = None):
        self.aliases = dict(aliases or {})
        self.by_table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.rows: dict[str, dict] = {}
        self.seen: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.created: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.gone: set[str] = set()
        for table, rows in world.tables.items():
            column = world.tenant_columns.get(table)
            if not column or not rows or "id" not in rows[0]:
                continue
            for row in rows:
                self.by_table[table][str(row[column])].append(str(row["id"]))
                self.rows[str(row["id"])] = {k: str(v) for k, v in row.items() if v is not None}
        self.tables = set(self.by_table)

    def dependents(self, table: str | None) -> int:
        """How many tables hang below ``table`` (by ``<singular>_id`` columns, transitively).

        Deletes run leaves first, so deleting a project (and its cascade) does not take away the tasks
        that ``DELETE /tasks/{task_id}`` still has to reach.
        """
        if table is None:
            return 0
        columns = {t: set(next(iter(self.rows_of(t)), {}).keys()) for t in self.tables}
        below, frontier = set(), {table}
        while frontier:
            nxt = set()
            for parent in frontier:
                key = _singular(parent) + "_id"
                nxt |= {t for t, cols in columns.items() if key in cols and t not in below and t != parent}
            below |= nxt
            frontier = nxt
        return len(below)

    def rows_of(self, table: str):
        for ids in self.by_table.get(table, {}).values():
            for i in ids[:1]:
                if i in self.rows:
                    yield self.rows[i]

    def observe(self, principal: str, table: str, items) -> None:
        """Remember the rows a principal's own 2xx response listed."""
        pool = self.seen[(principal, table)]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] not in self.gone:
                if item["id"] not in pool:
                    pool.append(item["id"])
                self.rows.setdefault(item["id"], {k: v for k, v in item.items() if isinstance(v, str)})

    def seen_by(self, principal: str, table: str) -> list[str]:
        return [i for i in self.seen.get((principal, table), ()) if i not in self.gone]

    def created_by(self, principal: str, table: str) -> str | None:
        """The newest object ``principal`` created in ``table`` and has not deleted (for DELETE)."""
        live = [i for i in self.created.get((principal, table), ()) if i not in self.gone]
        return live[-1] if live else None

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

    def add(self, table: str, tenant: str, object_id: str, principal: str | None = None, row=None) -> None:
        if table in self.tables:
            self.by_table[table][tenant].append(object_id)
            if principal:
                self.created[(principal, table)].append(object_id)
            if isinstance(row, dict):
                self.rows[object_id] = {k: v for k, v in row.items() if isinstance(v, str)}

    def remove(self, table: str, object_id: str) -> None:
        self.gone.add(object_id)
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
