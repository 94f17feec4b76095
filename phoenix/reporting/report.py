"""What a report is: named SQL text, typed parameters, and who may run it.

Reports run on the reporting role, which bypasses RLS (ADR-007: RLS made the long report queries
unplannable). So the tenant boundary of a report is its own SQL: every tenant table it touches —
joined tables, subqueries, CTEs and every UNION branch — carries
``tenant_id = ANY(%(tenant_ids)s::uuid[])`` (or a correlation to a row that does).

A few reports are assembled from named fragments (``{{name}}`` in the template), chosen when the SQL
is read: that is where the planted report faults live, so the clean text and the faulty one sit
side by side in the catalogue module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from phoenix.reporting import params as p
from phoenix.tenancy import ROLES

_FRAGMENT = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    template: str
    params: tuple[p.Param, ...]
    roles: tuple[str, ...]
    description: str
    #: A corporate roll-up: compares the subsidiaries of one client (corporate admins only).
    cross_tenant: bool = False
    #: Fragment name -> function returning its SQL; called each time ``sql`` is read.
    fragments: Mapping[str, Callable[[], str]] = field(default_factory=dict)

    def __post_init__(self):
        if not set(self.roles) <= set(ROLES):
            raise ValueError(f"report {self.name}: unknown role(s) in {self.roles}")
        if self.cross_tenant and self.roles != ("corporate_admin",):
            raise ValueError(f"report {self.name}: a cross-tenant roll-up is for corporate admins only")
        if "%(tenant_ids)s" not in self.template:
            raise ValueError(f"report {self.name}: no tenant predicate")
        names = {x.name for x in self.params}
        if len(names) != len(self.params) or "tenant_ids" in names:
            raise ValueError(f"report {self.name}: duplicate or reserved parameter name")
        missing = set(_FRAGMENT.findall(self.template)) - set(self.fragments)
        if missing:
            raise ValueError(f"report {self.name}: no fragment for {sorted(missing)}")

    @property
    def sql(self) -> str:
        """The SQL to execute (psycopg named parameters; ``%(tenant_ids)s`` is always among them)."""
        return _FRAGMENT.sub(lambda m: self.fragments[m.group(1)](), self.template)

    def params_schema(self) -> dict:
        return p.schema(self.params, title=f"{self.name} parameters")

    def validate(self, raw: dict | None) -> dict:
        return p.validate(self.params, raw)
