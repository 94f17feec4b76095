"""Waivers: a finding the team has accepted for now, kept in every report but not failing the scan.

A waiver names one finding by its stable id, or a class of them by (kind, operation); it must say why
(``reason``) and may say until when (``expires``, an ISO date). A waiver past its date no longer
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
        return self.id or f"{self.kind or '?'} on {self.operation or '?'}"

    def matches(self, finding: dict) -> bool:
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
            unknown = sorted(set(entry) - {"reason", "id", "kind", "operation", "expires"})
            if unknown:
                raise ScenarioError(f"waiver {entry!r}: unknown field(s) {', '.join(unknown)} "
                                    "(use id or kind+operation, reason, expires)")
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
