"""The ownership index: high-entropy values mapped to the tenants that own them, and a fast scanner.

Only values unique to one owner are markers: a value seen in two tenants (a status word, a shared
tag name, a currency code) proves nothing and is dropped. A value that occurs *inside* another
owner's text (a surname inside someone else's e-mail) is dropped too, so a substring match never
blames the wrong tenant. Categorical columns (a status, a payment method: few distinct values over
many rows) give no markers even when, by chance, one value occurs in a single tenant; nor does any
value the API's own contract publishes (an enum in the OpenAPI document). Values created during the run (ids returned by a create) join the index
under the creator's tenant. Scanning is one Aho-Corasick pass over the whole text (pyahocorasick),
never a loop of ``in``, and never chunked (a marker straddling a chunk boundary would be missed).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from harness.world import World

MIN_LENGTH = 8
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LOW_ENTROPY = re.compile(r"^[\d\s.,:+-]*$")  # numbers, dates, times: they collide by chance
#: A column with at most this share of distinct values (over at least CATEGORICAL_ROWS rows) is a
#: category (status, method, kind), not an identifier: a value unique to one tenant there is chance.
CATEGORICAL_SHARE = 0.5
CATEGORICAL_ROWS = 4


@dataclass(frozen=True)
class Hit:
    marker: str
    owners: frozenset[str]
    start: int
    end: int


def is_candidate(value) -> str | None:
    """The text form of ``value`` if it can be a marker, else None."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or isinstance(value, bool):
        return None
    text = value.strip()
    if _UUID.match(text.lower()):
        return text.lower()
    if len(text) < MIN_LENGTH or _LOW_ENTROPY.match(text):
        return None
    return text


def _categorical_columns(rows: list[dict]) -> set[str]:
    """Text columns whose values repeat too much to identify anything."""
    values: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for name, value in row.items():
            if isinstance(value, str):
                values[name].append(value)
    return {name for name, seen in values.items()
            if len(seen) >= CATEGORICAL_ROWS and len(set(seen)) <= CATEGORICAL_SHARE * len(seen)}


#: Texts longer than this (characters) are scanned in overlapping windows: memory stays a small
#: multiple of the window, not four times the body.
SCAN_WINDOW = 1 << 20
#: Markers added during the run live in a second, small automaton, merged into the main one when it
#: reaches this size: rebuilding the whole index after every create made each unsafe request cost
#: time proportional to the world (an automaton cannot take words once built).
MERGE_AT = 512


class OwnershipIndex:
    def __init__(self, owners: dict[str, frozenset[str]]):
        self._owners = dict(owners)
        self._automaton = None
        self._dirty = True
        self._recent: dict[str, frozenset[str]] = {}  # added during the run, not yet in the main automaton
        self._recent_automaton = None

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def from_world(cls, world: World) -> "OwnershipIndex":
        seen: dict[str, set[str]] = defaultdict(set)
        grouped: dict[str, frozenset[str]] = {}
        texts: dict[str, list[str]] = defaultdict(list)  # owner key -> every text it holds
        shared_text: list[str] = []
        for table, rows in world.tables.items():
            column = world.tenant_columns.get(table)
            group = world.group_owners.get(table)
            categorical = _categorical_columns(rows)
            for row in rows:
                if column:
                    owners = frozenset({str(row[column])})
                elif group:
                    owners = frozenset(group[1].get(str(row[group[0]]), ()))
                else:
                    owners = frozenset()
                for name, value in row.items():
                    if not isinstance(value, (str, uuid.UUID)):
                        continue
                    text = str(value)
                    if not owners:
                        shared_text.append(text)
                        continue
                    key = ",".join(sorted(owners))
                    texts[key].append(text)
                    marker = None if name in categorical else is_candidate(value)
                    if marker is None:
                        continue
                    if group and not column:
                        grouped[marker] = owners
                    else:
                        seen[marker].add(next(iter(owners)))
        owners_of: dict[str, frozenset[str]] = {m: frozenset(o) for m, o in seen.items() if len(o) == 1}
        for marker, owners in grouped.items():
            if marker in seen and not seen[marker] <= owners:
                continue
            owners_of[marker] = owners
        index = cls(owners_of)
        index._drop_ambiguous(texts, shared_text)
        return index

    def _drop_ambiguous(self, texts: dict[str, list[str]], shared_text: list[str]) -> None:
        """Drop markers that occur inside text owned by someone else (or inside shared data)."""
        ambiguous: set[str] = set()
        for hit in self.scan("\x00".join(shared_text)):
            ambiguous.add(hit.marker)
        for key, chunks in texts.items():
            holder = frozenset(key.split(","))
            for hit in self.scan("\x00".join(chunks)):
                if not (hit.owners >= holder or holder >= hit.owners):
                    ambiguous.add(hit.marker)
        for marker in ambiguous:
            del self._owners[marker]
        self._dirty = True

    def drop_public(self, text: str) -> list[str]:
        """Drop markers that occur in public text (the OpenAPI document): the API's own vocabulary
        is no tenant's secret. Returns the dropped markers, sorted, for the run's record."""
        dropped = sorted({hit.marker for hit in self.scan(text)})
        for marker in dropped:
            del self._owners[marker]
        self._dirty = self._dirty or bool(dropped)
        return dropped

    def add(self, value, tenant: str) -> bool:
        """Index a value created during the run by a principal of ``tenant``; False if not a marker."""
        marker = is_candidate(value)
        if marker is None or marker in self._owners:
            return False
        self._owners[marker] = self._recent[marker] = frozenset({tenant})
        self._recent_automaton = None
        if len(self._recent) >= MERGE_AT:
            self._dirty = True
        return True

    def share(self, value, tenant: str) -> None:
        """``tenant`` now holds ``value`` too (the run wrote it there): it stops blaming its first owner
        alone when ``tenant``'s principals see it."""
        marker = is_candidate(value)
        # Markers inside the value are shared too: a canary is a token within a seeded text.
        inside = {hit.marker for hit in self.scan(value)} if isinstance(value, str) else set()
        for marker in inside | ({marker} if marker is not None else set()):
            if marker in self._owners and tenant not in self._owners[marker]:
                self._owners[marker] = self._owners[marker] | {tenant}
                self._dirty = True

    # -- querying ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._owners)

    def owners(self, value: str) -> frozenset[str] | None:
        return self._owners.get(value)

    def markers_of(self, tenant: str) -> list[str]:
        return [m for m, o in self._owners.items() if tenant in o]

    @staticmethod
    def _automaton_of(owners: dict[str, frozenset[str]]):
        automaton = ahocorasick.Automaton()
        for marker, who in owners.items():
            automaton.add_word(marker, (marker, who))
        if len(automaton):
            automaton.make_automaton()
        return automaton

    def scan(self, text: str) -> Iterable[Hit]:
        """Every marker occurrence in ``text`` (one pass per automaton)."""
        if self._dirty or self._automaton is None:
            self._automaton = self._automaton_of(self._owners)
            self._recent, self._recent_automaton, self._dirty = {}, None, False
        if self._recent and self._recent_automaton is None:
            self._recent_automaton = self._automaton_of(self._recent)
        if not text:
            return
        for automaton in (self._automaton, self._recent_automaton if self._recent else None):
            if automaton is None or not len(automaton):
                continue
            if len(text) <= SCAN_WINDOW:
                for end, (marker, owners) in automaton.iter(text):
                    yield Hit(marker, owners, end - len(marker) + 1, end + 1)
                continue
            # A huge body is scanned in windows (the automaton copies its input as UCS-4, 4 bytes per
            # character), each overlapping the next by the longest marker, so that no marker straddling
            # a boundary is missed; a hit belongs to the window where it starts, so none is counted twice.
            longest = max(map(len, self._recent if automaton is self._recent_automaton else self._owners),
                          default=1)
            for base in range(0, len(text), SCAN_WINDOW):
                for end, (marker, owners) in automaton.iter(text[base:base + SCAN_WINDOW + longest - 1]):
                    start = base + end - len(marker) + 1
                    if start < base + SCAN_WINDOW:
                        yield Hit(marker, owners, start, base + end + 1)

    def scan_any(self, text: str) -> bool:
        """Whether ``text`` holds any marker."""
        return next(iter(self.scan(text)), None) is not None

    def foreign_hits(self, text: str, visible: frozenset[str]) -> list[Hit]:
        """Markers in ``text`` none of whose owners is visible: each is a leak, unless it lies inside a
        longer marker that is visible (an own slug ``acme-tools-2`` made after a foreign ``acme-tools``
        existed: the longest match names the value, as a reader would)."""
        hits = list(self.scan(text))
        foreign = [h for h in hits if not (h.owners & visible)]
        if not foreign:
            return foreign
        own = [h for h in hits if h.owners & visible]
        return [f for f in foreign
                if not any(o.start <= f.start and f.end <= o.end and o.end - o.start > f.end - f.start
                           for o in own)]

