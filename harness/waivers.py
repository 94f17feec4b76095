"""Waivers: a finding the team has accepted for now, kept in every report but not failing the scan.

A waiver names one finding by its stable id, or a class of them by (kind, operation), narrowed if need
be to the field that carried the value (``field``: a public ``display_name``, not the whole row) and to
the role that saw it (``role``); it must say why (``reason``) and may say until when (``expires``, an
ISO date). Waivers live in the scenario, or in a file kept under version control (``--waivers FILE``,
TOML ``[[waivers]]`` or a JSON list). A waiver past its date no longer
applies: the finding fails the scan again and the report says the waiver expired. A waiver that
matches nothing is stale (the bug was fixed, or the id changed) and is reported as a problem, so the
list cannot silently grow into a blanket exception.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from harness.errors import ScenarioError


@dataclass(frozen=True)
class Waiver:
    reason: str
    id: str | None = None
    kind: str | None = None
    #: An operation label ("GET /api/x") or a query ("query name"), as findings name them.
    operation: str | None = None
    expires: str | None = None  # ISO date, inclusive
    #: Only findings whose value came in this JSON field (or header), and only for this role.
    field: str | None = None
    role: str | None = None

    def __post_init__(self):
        if not str(self.reason or "").strip():
            raise ScenarioError(f"waiver {self.describe()} needs a reason (why is this finding accepted?)")
        if not self.id and not (self.kind and self.operation):
            raise ScenarioError(f"waiver {self.describe()} must name a finding id, or a kind and an operation")
        if self.expires is not None:
            try:
                dt.date.fromisoformat(str(self.expires))
            except ValueError:
                raise ScenarioError(f"waiver {self.describe()}: expires {self.expires!r} is not an ISO date "
                                    "(YYYY-MM-DD)") from None

    def describe(self) -> str:
        text = self.id or f"{self.kind or '?'} on {self.operation or '?'}"
        return text + (f" field {self.field}" if self.field else "") + (f" for role {self.role}" if self.role else "")

    def matches(self, finding: dict) -> bool:
        if self.field and finding.get("field") != self.field:
            return False
        if self.role and finding.get("role") != self.role:
            return False
        if self.id:
            return finding.get("id") == self.id
        names = {finding.get("operation")} | ({f"query {finding['query']}"} if finding.get("query") else set())
        return finding.get("kind") == self.kind and self.operation in names

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and dt.date.fromisoformat(str(self.expires)) < today

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse(entries) -> list[Waiver]:
    """The scenario's ``waivers`` (dicts or :class:`Waiver`) as waivers; a bad entry is one line."""
    out = []
    for entry in entries or ():
        if isinstance(entry, Waiver):
            out.append(entry)
        elif isinstance(entry, dict):
            unknown = sorted(set(entry) - {"reason", "id", "kind", "operation", "expires", "field", "role"})
            if unknown:
                raise ScenarioError(f"waiver {entry!r}: unknown field(s) {', '.join(unknown)} "
                                    "(use id or kind+operation, reason, expires, and optionally field, role)")
            fields = {k: (str(v) if v is not None else None) for k, v in entry.items()}
            out.append(Waiver(**{"reason": "", **fields}))
        else:
            raise ScenarioError(f"waiver {entry!r} must be a dict or a harness.waivers.Waiver")
    return out


def today(started: str | None) -> dt.date:
    """The run's date (its start), so that re-rendering an old document judges expiry as the run did."""
    if started:
        try:
            return dt.datetime.fromisoformat(str(started)).date()
        except ValueError:
            pass
    return dt.date.today()


def load(path) -> list[dict]:
    """The waivers of a file kept under version control: TOML (``[[waivers]]`` tables) or JSON (a list,
    or ``{"waivers": [...]}``). A missing or malformed file is one line naming it."""
    import json
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        raw = file.read_text()
    except OSError as exc:
        raise ScenarioError(f"waivers file {file}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw) if file.suffix == ".json" else tomllib.loads(raw)
    except ValueError as exc:
        raise ScenarioError(f"waivers file {file} is not valid {'JSON' if file.suffix == '.json' else 'TOML'}: "
                            f"{exc}") from None
    entries = data.get("waivers", []) if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ScenarioError(f'waivers file {file}: expected [[waivers]] tables, e.g. [[waivers]] kind = "foreign-row", '
                            f'operation = "GET /users", field = "display_name", reason = "…"')
    parse(entries)  # a bad entry is one line now, not at the end of the scan
    return entries
