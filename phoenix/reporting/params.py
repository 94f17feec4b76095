"""Typed report parameters: one validator shared by the HTTP API, the engine and the harness.

Report SQL is fixed text with psycopg placeholders; parameters never reach it as SQL. Validating
them here anyway gives callers a clear 422 instead of a database error, and lets each report
publish a JSON Schema that a fuzzer can generate valid bodies from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

TYPES = ("date", "int", "enum", "currency", "bool", "text")
#: The currency codes Phoenix ships as reference data (see phoenix.seed.CURRENCIES).
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY")
#: Reporting covers these years; outside them there is no data and queries get needlessly wide.
DATE_MIN = dt.date(2024, 1, 1)
DATE_MAX = dt.date(2027, 12, 31)
TEXT_MAX = 200
# Years 2024..2027 and days 01..28 only: every string the pattern admits is a valid date in range.
_DATE_PATTERN = r"^202[4-7]-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"


class ReportParamError(ValueError):
    """A report's parameters are invalid; the message says which one and why (the API's 422)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    required: bool = False
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    choices: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"param {self.name}: unknown type {self.type!r}")
        if self.type == "currency" and not self.choices:
            object.__setattr__(self, "choices", CURRENCIES)
        if self.type == "date":
            object.__setattr__(self, "minimum", self.minimum or DATE_MIN)
            object.__setattr__(self, "maximum", self.maximum or DATE_MAX)
        if self.type == "enum" and not self.choices:
            raise ValueError(f"param {self.name}: an enum needs choices")

    def json_schema(self) -> dict:
        """This parameter as a JSON Schema (draft 2020-12 / OpenAPI 3.1 subset)."""
        s: dict[str, Any]
        if self.type == "date":
            s = {"type": "string", "format": "date", "pattern": _DATE_PATTERN,
                 "x-minimum": self.minimum.isoformat(), "x-maximum": self.maximum.isoformat()}
        elif self.type == "int":
            s = {"type": "integer"}
            if self.minimum is not None:
                s["minimum"] = self.minimum
            if self.maximum is not None:
                s["maximum"] = self.maximum
        elif self.type in ("enum", "currency"):
            s = {"type": "string", "enum": list(self.choices)}
        elif self.type == "bool":
            s = {"type": "boolean"}
        else:
            s = {"type": "string", "maxLength": TEXT_MAX}
        if not self.required and self.default is None:
            s = {"anyOf": [s, {"type": "null"}]}
        if self.description:
            s["description"] = self.description
        if self.default is not None:
            s["default"] = self.default.isoformat() if isinstance(self.default, dt.date) else self.default
        return s

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's Python type, or raise ReportParamError."""
        if value is None:
            if self.required:
                raise ReportParamError(f"{self.name}: required")
            return self.default
        bad = f"{self.name}: expected {self._expected()}, got {value!r}"
        if self.type == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    raise ReportParamError(bad) from None
            if not isinstance(value, dt.date):
                raise ReportParamError(bad)
            if not self.minimum <= value <= self.maximum:
                raise ReportParamError(f"{self.name}: {value.isoformat()} is outside "
                                       f"{self.minimum.isoformat()}..{self.maximum.isoformat()}")
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ReportParamError(bad)
            try:
                value = int(value)
            except ValueError:
                raise ReportParamError(bad) from None
            if (self.minimum is not None and value < self.minimum) or \
                    (self.maximum is not None and value > self.maximum):
                raise ReportParamError(f"{self.name}: {value} is outside {self.minimum}..{self.maximum}")
            return value
        if self.type in ("enum", "currency"):
            if not isinstance(value, str) or value not in self.choices:
                raise ReportParamError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")
            return value
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ReportParamError(bad)
            return value
        if not isinstance(value, str) or len(value) > TEXT_MAX:
            raise ReportParamError(bad)
        return value

    def _expected(self) -> str:
        return {"date": "an ISO date (YYYY-MM-DD)", "int": "an integer", "bool": "true or false",
                "text": f"a string of at most {TEXT_MAX} characters"}.get(self.type, self.type)


def validate(params: tuple[Param, ...], raw: dict | None) -> dict:
    """Coerce ``raw`` against ``params``: defaults applied, unknown keys and bad ranges rejected."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ReportParamError(f"parameters must be a JSON object, got {type(raw).__name__}")
    known = {p.name: p for p in params}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ReportParamError(f"unknown parameter(s): {', '.join(map(str, unknown))}; "
                               f"accepted: {', '.join(known) or 'none'}")
    out = {p.name: p.coerce(raw.get(p.name)) for p in params}
    lo, hi = out.get("date_from"), out.get("date_to")
    if lo is not None and hi is not None and lo > hi:
        raise ReportParamError(f"date_from ({lo.isoformat()}) must not be after date_to ({hi.isoformat()})")
    return out


def schema(params: tuple[Param, ...], title: str = "") -> dict:
    """The JSON Schema of a report's request body: an object of exactly these parameters."""
    s = {"type": "object", "additionalProperties": False,
         "properties": {p.name: p.json_schema() for p in params},
         "required": [p.name for p in params if p.required]}
    if title:
        s["title"] = title
    return s


# ------------------------------------------------------------------ the parameters reports share
def date_from(default: dt.date = DATE_MIN) -> Param:
    return Param("date_from", "date", default=default, description="First day included (ISO date).")


def date_to(default: dt.date = DATE_MAX) -> Param:
    return Param("date_to", "date", default=default, description="Last day included (ISO date).")


def as_of(default: dt.date = dt.date(2026, 6, 30)) -> Param:
    return Param("as_of", "date", default=default, description="The day the report is taken on.")


def limit(default: int = 100) -> Param:
    return Param("limit", "int", default=default, minimum=1, maximum=500, description="Maximum rows returned.")


def top_n(default: int = 3, maximum: int = 20) -> Param:
    return Param("top_n", "int", default=default, minimum=1, maximum=maximum, description="Rows kept per group.")


def currency() -> Param:
    return Param("currency", "currency", description="Only amounts in this currency (default: all).")


def enum(name: str, choices: tuple[str, ...], default: str, description: str = "") -> Param:
    return Param(name, "enum", default=default, choices=choices, description=description)


def flag(name: str, default: bool, description: str = "") -> Param:
    return Param(name, "bool", default=default, description=description)

