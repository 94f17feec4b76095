"""Does a statement keep to the tenant context: by its own predicate, by RLS only, or not at all?

For every tenant table a statement reads or writes (in CTEs, subqueries, LATERAL, UNION branches,
EXISTS, joins), the statement is parsed with pglast (PostgreSQL's own parser, no regular expressions)
and each table is classified:

- ``predicate``: the statement itself limits the table to the tenant context, by one of these rules
  (``TableAccess.rule``):
  ``direct`` ``t.tenant_id = $1`` / a literal / a function of the tenant context (``current_setting``
  or a SQL function calling it); ``direct-any`` ``= ANY($1)``; ``direct-in`` ``IN ($1, $2)``;
  ``tenant-join`` ``a.tenant_id = b.tenant_id`` where b is constrained (b may be a CTE or subquery
  column that carries a constrained tenant column); ``key-join`` an equi-join along a declared
  foreign key to a constrained row (it assumes child rows share their parent's tenant unless the key
  includes the tenant column; the ``why`` says which); ``subquery`` ``tenant_id IN (SELECT ...)`` of a
  constrained column; ``exists`` a correlated predicate inside EXISTS/IN; ``or`` every arm of an OR
  constrains it; ``insert-values``/``insert-select`` the inserted tenant column comes from the
  context or a constrained row. A predicate in a LEFT JOIN's ON filters only the joined side; an OR
  with one arm lacking the predicate, and NOT, constrain nothing.
- ``rls-only``: no such predicate, but row-level security binds the table for the role that ran it.
- ``unprotected``: neither. On a BYPASSRLS role (reports) this is a cross-tenant read or write.

Known limits (conservative: they can only make a safe statement look unprotected, or be missed when
the statement is not the one that reads the rows): a predicate applied only *outside* a subquery or
CTE does not count for the table inside it (it would not be safe under LIMIT, window functions or
DISTINCT ON); tables read inside functions, views or triggers are not seen; unqualified columns are
resolved with the catalogue's column lists (ambiguity resolves to nothing); a recursive CTE's
recursive branch learns nothing from the CTE itself; table aliases with column lists are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pglast

from harness.sql._build import Builder
from harness.sql._scopes import Engine
from harness.sql.catalogue import Catalogue, ForeignKey, RoleFacts, TableFacts, catalogue

VERDICTS = ("predicate", "rls-only", "unprotected")


@dataclass(frozen=True)
class TableAccess:
    table: str
    alias: str
    mode: str  # "read" | "write"
    constrained: bool
    rule: str
    rls: bool
    verdict: str  # "predicate" | "rls-only" | "unprotected"
    why: str


@dataclass(frozen=True)
class StatementAnalysis:
    sql: str
    role: str | None
    tables: tuple[TableAccess, ...]
    #: The worst verdict over ``tables``; ``none`` when no tenant table is touched, ``unparsed`` when
    #: pglast rejects the text, ``error`` when the analyzer cannot follow it (``error`` says why).
    verdict: str
    error: str | None = None

    @property
    def unprotected(self) -> list[TableAccess]:
        return [t for t in self.tables if t.verdict == "unprotected"]


def analyze(sql: str, cat: Catalogue, role: str | None = None) -> StatementAnalysis:
    """Classify every tenant-table access of ``sql`` (one or more statements) run by ``role``."""
    try:
        raw = pglast.parse_sql(sql)
    except pglast.Error as exc:
        return StatementAnalysis(sql, role, (), "unparsed", f"{type(exc).__name__}: {exc}")
    accesses: list[TableAccess] = []
    for stmt in raw:
        engine = Engine(cat)
        try:
            Builder(engine).statement(stmt.stmt)
            engine.solve()
        except Exception as exc:  # a scan must not stop on one statement the analyzer cannot follow
            return StatementAnalysis(sql, role, (), "error", f"analyzer: {type(exc).__name__}: {exc}")
        for rel in engine.rels:
            rls, rls_why = cat.rls_binds(rel.table, role)
            verdict = "predicate" if rel.constrained else ("rls-only" if rls else "unprotected")
            if rel.constrained:
                why = rel.why
            else:
                lacking = rel.why or f"no condition limits {rel.name}.{rel.tenant_col} to the tenant context"
                why = f"{lacking}; {rls_why}"
            accesses.append(TableAccess(rel.table, rel.name, rel.mode, rel.constrained, rel.rule, rls, verdict, why))
    return StatementAnalysis(sql, role, tuple(accesses), worst(a.verdict for a in accesses))


def worst(verdicts) -> str:
    ranked = list(verdicts)
    return max(ranked, key=VERDICTS.index) if ranked else "none"


@lru_cache(maxsize=4096)
def normalize(sql: str) -> str:
    """The statement with constants replaced by ``$n`` (pg_stat_statements' form), for display and grouping."""
    try:
        return pglast.parser.normalize(sql)
    except pglast.Error:
        return " ".join(sql.split())


@lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """pglast's fingerprint: equal for statements that differ only in constants, parameters, layout."""
    try:
        return pglast.parser.fingerprint(sql)
    except pglast.Error:
        return "text:" + " ".join(sql.split())


__all__ = ["Catalogue", "ForeignKey", "RoleFacts", "StatementAnalysis", "TableAccess", "TableFacts", "analyze",
           "catalogue", "fingerprint", "normalize", "worst"]
