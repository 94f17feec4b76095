"""The world as objects with owners, whatever made them, and which object a parameter names.

Every object the harness knows is one :class:`Obj` in one store: a row the scenario generated
(``world``), a row read from the database catalogue (``catalogue``), or an object created through the
API during the run (``api``, registered with :meth:`ResourceIds.add_object`). Each has a table, a key,
owning tenants, its fields and, when the harness made it, the principal who did. The fuzzer asks the
store for a principal's own values (to reach a 2xx) and a foreign tenant's (to attack); the oracles
never ask where an object came from.

A parameter names a column of a table (a :class:`Ref`): the scenario's ``resource_aliases`` first
(``"ws": "workspaces.slug"``, ``"assignee_id": "users"``; a path segment may be aliased too:
``"members": "memberships"``), then convention (``project_id`` → ``projects.id``, ``time_entry_id`` →
``time_entries.id``; ``id`` and ``ids`` → the last path segment that is a table, so ``/projects/batch``
→ ``projects``). The column is ``id`` unless the alias names one or ``resource_keys`` gives the table's
key. A table whose tenant column is its own ``id`` holds the tenants themselves: a parameter naming it
(``/w/{ws}/…``) is the request's tenant. Values keep their type: an integer key is sent as an integer.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from harness.world import World

SOURCES = ("world", "catalogue", "api")


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


def plain(value):
    """A value as a request carries it: UUIDs, dates and decimals as text, everything else as is."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def text(value) -> str:
    """The comparable text of a value (``7`` and ``"7"`` name the same key)."""
    value = plain(value)
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        return value.lower()
    return str(value)


@dataclass(frozen=True)
class Ref:
    """What a parameter names: a column of a table (``accounts.number``, ``projects.id``)."""

    table: str
    column: str = "id"

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(eq=False)
class Obj:
    """One object of the world, owned by tenants (none: shared reference data)."""

    table: str
    key: object
    owners: frozenset[str]
    fields: dict
    source: str = "world"
    creator: str | None = None  # the principal who created it through the API
    gone: bool = False

    def value(self, column: str):
        return self.fields.get(column)


def key_of(fields: dict, key_column: str = "id"):
    """An object's key: its ``key_column``; else the tuple of its ``*_id`` fields (a join table's
    composite key); else the tuple of all its fields."""
    if key_column in fields:
        return plain(fields[key_column])
    refs = tuple(plain(v) for k, v in fields.items() if k.endswith("_id"))
    return refs or tuple(plain(v) for v in fields.values())


class ResourceIds:
    """Every object, by table and owner, and what each principal has seen and created of them.

    A tenant's object is not always usable by every principal of that tenant (a notification belongs
    to one user, a dashboard may be private), so objects a principal's own 2xx responses listed are
    preferred for its requests: learned from the API, not assumed. Fields are kept, so that a nested
    path gets a consistent parent (``/projects/{project_id}/tasks/{task_id}``: the task's own
    ``project_id``).
    """

    def __init__(self, world: World, aliases: dict[str, str] | None = None, keys: dict[str, str] | None = None):
        self.keys = dict(keys or {})  # table -> key column when not ``id``
        self.aliases: dict[str, Ref] = {}
        for name, target in (aliases or {}).items():
            table, _, column = str(target).partition(".")
            self.aliases[name] = Ref(table, column or self.keys.get(table, "id"))
        self.tenant_columns = dict(world.tenant_columns)
        self._objects: dict[tuple[str, str], Obj] = {}
        self._owned: dict[str, dict[str, list[Obj]]] = defaultdict(lambda: defaultdict(list))
        self._all: dict[str, list[Obj]] = defaultdict(list)
        self._values: dict[tuple[str, str], dict[str, list[Obj]]] = {}
        self.seen: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        self.created: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        self._serials: dict[str, int] = defaultdict(int)
        self._rank: dict[tuple[str, str], int] = {}  # (table, key) -> when the store learned of it
        self.reserved: set[str] = set()  # values naming a principal (its login): see reserve()
        self._principal_keys: dict[str, set[str]] | None = None
        for table, rows in world.tables.items():
            column = world.tenant_columns.get(table)
            group = world.group_owners.get(table)
            key_column = self.keys.get(table, "id")
            for row in rows:
                if column:
                    owners = frozenset({text(row[column])})
                elif group:
                    owners = frozenset(group[1].get(text(row[group[0]]), ()))
                else:
                    owners = frozenset()
                fields = {k: plain(v) for k, v in row.items() if v is not None}
                self._put(Obj(table, key_of(fields, key_column), owners, fields))
        #: Tables whose objects are owned by tenants (the id pools attacks draw from).
        self.tables = {t for t, c in world.tenant_columns.items() if c and world.tables.get(t)}

    # -- the store ---------------------------------------------------------------------------------
    def _put(self, obj: Obj) -> Obj:
        ident = (obj.table, text(obj.key))
        known = self._objects.get(ident)
        if known is not None:
            return known
        self._objects[ident] = obj
        self._rank[ident] = len(self._rank)
        self._all[obj.table].append(obj)
        for owner in sorted(obj.owners):
            self._owned[obj.table][owner].append(obj)
        for (table, column), index in self._values.items():
            if table == obj.table and column in obj.fields:
                index.setdefault(text(obj.fields[column]), []).append(obj)
        return obj

    def add_object(self, table: str, owners, fields: dict | None = None, *, key=None, source: str = "api",
                   creator: str | None = None) -> Obj:
        """Register an object the harness knows of: created through the API, read from the catalogue.

        ``owners`` is a tenant id or a set of them (empty: shared); ``fields`` its values by column (the
        API's response body will do); ``key`` defaults to ``fields["id"]`` (or the table's
        ``resource_keys`` column, or the object's ``*_id`` fields). ``creator`` is the principal that
        created it, whose later requests may then use (and delete) it. Returns the stored object (the
        one already known under that key, if any).
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        owners = frozenset({owners} if isinstance(owners, str) else (owners or ()))
        fields = {k: plain(v) for k, v in (fields or {}).items() if v is not None}
        if key is None:
            key = key_of(fields, self.keys.get(table, "id"))
        obj = self._put(Obj(table, plain(key), frozenset(text(o) for o in owners), fields, source, creator))
        if obj.gone:  # a key the app reuses after a delete
            obj.gone = False
        if creator:
            self.created[(creator, table)].append(obj)
        if obj.owners and table in self.tenant_columns and self.tenant_columns[table]:
            self.tables.add(table)
        return obj

    def get(self, table: str, key) -> Obj | None:
        return self._objects.get((table, text(key)))

    def find(self, table: str, column: str, value) -> list[Obj]:
        """The live objects of ``table`` whose ``column`` holds ``value``."""
        index = self._values.get((table, column))
        if index is None:
            index = {}
            for obj in self._all.get(table, ()):
                if column in obj.fields:
                    index.setdefault(text(obj.fields[column]), []).append(obj)
            self._values[(table, column)] = index
        return [o for o in index.get(text(value), ()) if not o.gone]

    def objects(self, table: str, tenants=None) -> list[Obj]:
        """Live objects of ``table``, owned by one of ``tenants`` (None: all, shared ones included)."""
        if tenants is None:
            return [o for o in self._all.get(table, ()) if not o.gone]
        out, seen = [], set()
        for t in sorted(tenants):
            for o in self._owned.get(table, {}).get(t, ()):
                if not o.gone and id(o) not in seen:
                    seen.add(id(o))
                    out.append(o)
        return out

    def remove(self, table: str, value, column: str = "id", tenant: str | None = None) -> list[Obj]:
        """Mark the objects of ``table`` whose ``column`` is ``value`` (in ``tenant``, if given) deleted."""
        gone = [o for o in self.find(table, column, value) if tenant is None or not o.owners or tenant in o.owners]
        for o in gone:
            o.gone = True
        return gone

    # -- what a principal saw and made -------------------------------------------------------------
    def observe(self, principal: str, table: str, items) -> None:
        """Remember the objects a principal's own 2xx response listed (any key type)."""
        pool = self.seen[(principal, table)]
        key_column = self.keys.get(table, "id")
        for item in items:
            if not isinstance(item, dict) or not item:
                continue
            fields = {k: plain(v) for k, v in item.items() if isinstance(v, (str, int, float, uuid.UUID))
                      and not isinstance(v, bool)}
            if not fields:
                continue
            key = key_of(fields, key_column)
            obj = self.get(table, key)
            if obj is None:
                obj = Obj(table, key, frozenset(), fields, "api")
            elif obj.gone:
                continue
            if obj not in pool:
                pool.append(obj)

    def seen_by(self, principal: str, table: str) -> list[Obj]:
        """What ``principal`` saw, once per key, in the order the store learned of it (the world's, then
        creation order), objects the store does not hold after, as first seen: never the order of a key
        the app drew at random, so the seeded generator picks the same object next run (determinism)."""
        live, keys = [], set()
        for o in self.seen.get((principal, table), ()):
            ident = (o.table, text(o.key))
            if not o.gone and ident not in keys:
                keys.add(ident)
                live.append(o)
        return sorted(live, key=lambda o: self._rank.get((o.table, text(o.key)), len(self._rank)))

    def created_by(self, principal: str, table: str):
        """The key of the newest object ``principal`` created in ``table`` and has not deleted."""
        live = [o for o in self.created.get((principal, table), ()) if not o.gone]
        return live[-1].key if live else None

    def created_in(self, table: str, tenant: str) -> list[Obj]:
        """The live objects of ``table`` created through the API in ``tenant``, oldest first."""
        return [o for o in self._owned.get(table, {}).get(tenant, ()) if o.source == "api" and not o.gone]

    def newest_created(self, principal: str, table: str) -> Obj | None:
        live = [o for o in self.created.get((principal, table), ()) if not o.gone]
        return live[-1] if live else None

    # -- the principals' own rows ----------------------------------------------------------------------
    def reserve(self, values) -> None:
        """Values that name a principal (its login e-mail…). V(P) is declared, so the scan must not
        change who may see what: such a value is never supplied to a request (inviting a principal
        somewhere), and a delete never names a principal's row or a row pointing at one (a membership)."""
        self.reserved |= {text(v) for v in values if isinstance(v, (str, int)) and v != ""}
        self._principal_keys = None

    def principal_keys(self, table: str) -> set[str]:
        """Keys of ``table``'s objects that hold a reserved value (the principals' own rows)."""
        if self._principal_keys is None:
            keys: dict[str, set[str]] = defaultdict(set)
            if self.reserved:
                for obj in self._objects.values():
                    if any(isinstance(v, str) and text(v) in self.reserved for v in obj.fields.values()):
                        keys[obj.table].add(text(obj.key))
            self._principal_keys = keys
        return self._principal_keys.get(table, set())

    def names_principal(self, ref: Ref, value) -> bool:
        """True when ``value`` of ``ref`` is a principal's row, or points at one (``user_id`` → users)."""
        value = text(value)
        if value in self.reserved:
            return True
        if ref.column == self.keys.get(ref.table, "id") and value in self.principal_keys(ref.table):
            return True
        return ref.column.endswith("_id") and value in self.principal_keys(plural(ref.column[:-3]))

    def next_serial(self, principal: str) -> int:
        """A number per request a principal writes, for values unique to that request (run-wide)."""
        self._serials[principal] += 1
        return self._serials[principal]

    # -- which object a parameter names ------------------------------------------------------------
    def is_tenant_table(self, table: str) -> bool:
        """True when ``table``'s rows are the tenants themselves (its tenant column is its key)."""
        return self.tenant_columns.get(table) == self.keys.get(table, "id")

    def ref_for(self, name: str, path: str = "", body: bool = False) -> Ref | None:
        """The column a parameter named ``name`` (in an operation at ``path``) refers to. In a body, a
        column of the operation's own table other than its key is the object's own value (an account's
        ``number`` when creating an account), not a reference: None."""
        if name in self.aliases:
            ref = self.aliases[name]
            if body and ref.column != self.keys.get(ref.table, "id") and ref.table == self.table_of_path(path):
                return None
            return ref
        if name.endswith("_id"):
            table = plural(name[:-3])
            if self._all.get(table):
                return Ref(table, self.keys.get(table, "id"))
        if name in ("id", "ids"):
            table = self.table_of_path(path)
            if table:
                return Ref(table, self.keys.get(table, "id"))
        return None

    def table_of_path(self, path: str) -> str | None:
        """The resource type an operation at ``path`` is about: its last segment naming a table."""
        for segment in reversed([s for s in path.split("/") if s and not s.startswith("{")]):
            alias = self.aliases.get(segment)
            if alias and self._all.get(alias.table) is not None:
                return alias.table
            segment = segment.replace("-", "_")
            if segment in self.tables or (self._all.get(segment) and self.tenant_columns.get(segment)):
                return segment
        return None

    def table_for(self, name: str, path: str = "") -> str | None:
        """The table a parameter named ``name`` refers to (see :meth:`ref_for`)."""
        ref = self.ref_for(name, path)
        return ref.table if ref else None

    def tenant_of(self, ref: Ref, value) -> str | None:
        """The tenant a tenant parameter's value names (``ws=acme`` → acme's id), else None."""
        if not self.is_tenant_table(ref.table):
            return None
        for obj in self.find(ref.table, ref.column, value):
            if len(obj.owners) == 1:
                return next(iter(obj.owners))
        return None

    def request_tenant(self, path: str, path_params: dict) -> str | None:
        """The tenant a request's path names (``/w/acme/…``), or None when its path names none."""
        for name, value in path_params.items():
            ref = self.ref_for(name, path)
            if ref is not None and self.is_tenant_table(ref.table):
                return self.tenant_of(ref, value)
        return None

    def innermost_ref(self, path: str) -> tuple[str, Ref] | None:
        """(name, ref) of the last path parameter of ``path`` that names an object (not the tenant)."""
        for name in reversed(re.findall(r"\{(\w+)\}", path)):
            ref = self.ref_for(name, path)
            if ref is not None and not self.is_tenant_table(ref.table):
                return name, ref
        return None

    def owners_of(self, ref: Ref, value) -> frozenset[str]:
        """Every tenant owning an object of ``ref.table`` whose ``ref.column`` is ``value``."""
        owners: set[str] = set()
        for obj in self.find(ref.table, ref.column, value):
            owners |= obj.owners
        return frozenset(owners)

    # -- own and foreign values --------------------------------------------------------------------
    def pick(self, table: str, tenants, rng: random.Random) -> tuple[str, object] | None:
        """(tenant, key) of a random object of ``table`` owned by one of ``tenants``."""
        obj = self.pick_object(table, tenants, rng)
        return (next(iter(sorted(obj.owners))), obj.key) if obj else None

    def pick_object(self, table: str, tenants, rng: random.Random, column: str | None = None,
                    avoid=None) -> Obj | None:
        """A random live object of ``table`` owned by one of ``tenants`` (having ``column``, whose value
        is not in ``avoid``).

        Each tenant's first object is kept out of the pool while it has others: it is the one attacks
        use, and a principal deleting its own random object must not delete the attack's target.
        """
        pool = []
        for t in sorted(tenants):
            objs = [o for o in self._owned.get(table, {}).get(t, ()) if column is None or column in o.fields]
            if avoid:
                objs = [o for o in objs if text(o.fields[column]) not in avoid]
            live = [o for o in objs[1:] if not o.gone] if len(objs) > 1 else []
            pool += live or [o for o in objs[:1] if not o.gone]
        return rng.choice(pool) if pool else None

    def first(self, table: str, tenant: str):
        """The key of ``tenant``'s first live object of ``table`` (what attacks carry)."""
        obj = self.first_object(Ref(table, self.keys.get(table, "id")), tenant)
        return obj.key if obj else None

    def first_object(self, ref: Ref, tenant: str, avoid=frozenset()) -> Obj | None:
        """``tenant``'s first live object of ``ref.table`` whose ``ref.column`` value no tenant in
        ``avoid`` also holds: a value shared with the attacker's own tenants proves nothing."""
        for obj in self._owned.get(ref.table, {}).get(tenant, ()):
            if obj.gone or ref.column not in obj.fields:
                continue
            if avoid and self.owners_of(ref, obj.fields[ref.column]) & avoid:
                continue
            return obj
        return None

    def own_object(self, ref: Ref, principal, rng: random.Random, tenant: str | None = None,
                   prefer_created: bool = False) -> Obj | None:
        """An object ``principal`` may use for ``ref``: what it created (to delete), else what it saw,
        else its tenant's (``tenant`` when the request names one, else its home, else any it sees)."""
        tenants = {tenant} if tenant else None

        def usable(o: Obj) -> bool:
            if ref.column not in o.fields or (o.owners and tenants is not None and not o.owners & tenants):
                return False
            return not (prefer_created and self.names_principal(ref, o.fields[ref.column]))
        if prefer_created:
            made = [o for o in self.created.get((principal.name, ref.table), ()) if not o.gone and usable(o)]
            if made:
                return made[-1]
        seen = [o for o in self.seen_by(principal.name, ref.table) if usable(o)]
        if seen and rng.random() < 0.9:
            return rng.choice(seen)
        if not self.tenant_columns.get(ref.table):  # shared reference data: any row
            rows = [o for o in self.objects(ref.table) if usable(o)]
            return rng.choice(rows) if rows else None
        avoid = None
        if prefer_created:  # a delete: never a principal's row (see reserve)
            avoid = {text(o.fields[ref.column]) for o in self.objects(ref.table, tenants or principal.visible)
                     if ref.column in o.fields and self.names_principal(ref, o.fields[ref.column])}
        if tenants:
            return self.pick_object(ref.table, tenants, rng, ref.column, avoid)
        return (self.pick_object(ref.table, {principal.tenant}, rng, ref.column, avoid)
                or self.pick_object(ref.table, principal.visible, rng, ref.column, avoid))

    def values(self, ref: Ref, tenants=None) -> list:
        """The distinct values of ``ref.column`` among the live objects of ``ref.table`` owned by one of
        ``tenants`` (every object for shared tables, or when ``tenants`` is None), in world order."""
        shared = not self.tenant_columns.get(ref.table)
        out, seen = [], set()
        for obj in self.objects(ref.table, None if shared else tenants):
            if ref.column in obj.fields and text(obj.fields[ref.column]) not in seen:
                seen.add(text(obj.fields[ref.column]))
                out.append(obj.fields[ref.column])
        return out

    # -- ordering ------------------------------------------------------------------------------------
    def dependents(self, table: str | None) -> int:
        """How many tables hang below ``table`` (by ``<singular>_id`` columns, transitively).

        Deletes run leaves first, so deleting a project (and its cascade) does not take away the tasks
        that ``DELETE /tasks/{task_id}`` still has to reach.
        """
        if table is None:
            return 0
        columns = {t: set(self._all[t][0].fields) for t in self.tables if self._all.get(t)}
        below, frontier = set(), {table}
        while frontier:
            nxt = set()
            for parent in frontier:
                key = _singular(parent) + "_id"
                nxt |= {t for t, cols in columns.items() if key in cols and t not in below and t != parent}
            below |= nxt
            frontier = nxt
        return len(below)
