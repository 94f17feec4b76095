"""What derived relations (subqueries, CTEs, UNIONs, VALUES, RETURNING) tell their readers.

A reader needs two things of a derived relation: its column names (to resolve unqualified columns and
``AS alias(a, b)``) and what each output column is known to hold (a :class:`Fact`), which is the fact
of the expression behind it, evaluated lazily because the fixpoint may still constrain the tables
inside. A UNION column holds what *every* branch says it holds; a recursive CTE learns nothing from
itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pglast import ast
from pglast.enums import SetOperation

from harness.sql._scopes import Fact, Scope, const_kind

if TYPE_CHECKING:
    from harness.sql._scopes import Engine


class Output:
    """What a SELECT (or UNION, VALUES, RETURNING) gives its readers: column names and facts."""

    def columns(self) -> list[str] | None:
        raise NotImplementedError

    def fact_at(self, i: int, engine: "Engine") -> Fact | None:
        raise NotImplementedError

    def fact(self, name: str, engine: "Engine") -> Fact | None:
        cols = self.columns()
        if cols is not None and name in cols:
            return self.fact_at(cols.index(name), engine)
        return None


class SelectOutput(Output):
    def __init__(self, targets, scope: Scope):
        self.scope = scope
        self.entries: list[tuple[str, object]] = []  # ("expr", (name, node)) | ("star", rel-or-None)
        for t in targets or ():
            val = t.val
            if isinstance(val, ast.ColumnRef) and isinstance(val.fields[-1], ast.A_Star):
                qual = [f.sval for f in val.fields[:-1] if isinstance(f, ast.String)]
                self.entries.append(("star", scope.rels.get(qual[-1]) if qual else None))
            else:
                self.entries.append(("expr", (t.name or _target_name(val), val)))

    def _expanded(self) -> list[tuple[str, object]] | None:
        out = []
        for kind, item in self.entries:
            if kind == "expr":
                out.append(item)
                continue
            rels = [item] if item is not None else list(self.scope.rels.values())
            for rel in rels:
                cols = rel.output.columns() if rel.kind == "derived" else rel.columns
                if cols is None:
                    return None
                out.extend((c, (rel, c)) for c in cols)
        return out

    def columns(self):
        exp = self._expanded()
        return None if exp is None else [name for name, _ in exp]

    def fact_at(self, i, engine):
        exp = self._expanded()
        if exp is None or i >= len(exp):
            return None
        return self._fact_of(exp[i][1], engine)

    def fact(self, name, engine):
        for kind, item in self.entries:
            if kind == "expr" and item[0] == name:
                return self._fact_of(item[1], engine)
        stars = [it for kind, it in self.entries if kind == "star"]
        rels = [r for it in stars for r in ([it] if it is not None else self.scope.rels.values())]
        known = [r for r in rels if r.has(name) is True]
        unknown = [r for r in rels if r.has(name) is None]
        if len(known) == 1:
            return engine.fact(known[0], name)
        if not known and len(unknown) == 1:
            return engine.fact(unknown[0], name)
        return None

    def _fact_of(self, item, engine):
        if isinstance(item, tuple):
            return engine.fact(*item)
        return engine.expr_fact(item, self.scope)


class SetOutput(Output):
    def __init__(self, op: SetOperation, branches: list[Output]):
        self.op, self.branches = op, branches

    def columns(self):
        return self.branches[0].columns()

    def fact_at(self, i, engine):
        facts = [b.fact_at(i, engine) for b in self.branches]
        if self.op == SetOperation.SETOP_EXCEPT:
            return facts[0]
        if self.op == SetOperation.SETOP_INTERSECT:
            return next((f for f in facts if f is not None), None)
        if any(f is None for f in facts):  # UNION: a column is only what every branch says it is
            return None
        if all(f.kind in ("tenant", "const") for f in facts):  # any tenant-context value will do
            return next((f for f in facts if f.kind == "tenant"), facts[0])
        first = facts[0]
        same = all((f.kind, f.table, f.column) == (first.kind, first.table, first.column) for f in facts)
        return first if same else None

    def fact(self, name, engine):
        cols = self.columns()
        if cols is not None and name in cols:
            return self.fact_at(cols.index(name), engine)
        return None


class ValuesOutput(Output):
    def __init__(self, rows, scope: Scope):
        self.rows, self.scope = rows, scope

    def columns(self):
        return [f"column{i + 1}" for i in range(len(self.rows[0]))] if self.rows else []

    def fact_at(self, i, engine):
        kinds = {const_kind(r[i], engine.cat) if i < len(r) else None for r in self.rows}
        if None in kinds or not kinds:
            return None
        return Fact("const", how="/".join(sorted(kinds)))


class Renamed(Output):
    """``AS alias(a, b)`` / ``WITH x(a, b)``: the first columns renamed by position."""

    def __init__(self, inner: Output, names: list[str]):
        self.inner, self.names = inner, names

    def columns(self):
        cols = self.inner.columns()
        if cols is None:
            return list(self.names)
        return list(self.names) + cols[len(self.names):]

    def fact_at(self, i, engine):
        return self.inner.fact_at(i, engine)

    def fact(self, name, engine):
        if name in self.names:
            return self.inner.fact_at(self.names.index(name), engine)
        return self.inner.fact(name, engine)


class CteRef(Output):
    """A CTE's output, filled in once its query is analysed (a recursive reference sees it empty first)."""

    def __init__(self, name: str):
        self.name = name
        self.target: Output | None = None
        self.busy = False

    def columns(self):
        return None if self.target is None or self.busy else self.target.columns()

    def fact_at(self, i, engine):
        return self._guard(lambda: self.target.fact_at(i, engine))

    def fact(self, name, engine):
        return self._guard(lambda: self.target.fact(name, engine))

    def _guard(self, f):
        if self.target is None or self.busy:
            return None  # a recursive CTE reading itself learns nothing from itself
        self.busy = True
        try:
            return f()
        finally:
            self.busy = False


def _target_name(val) -> str:
    while isinstance(val, (ast.TypeCast, ast.CollateClause)):
        val = val.arg
    if isinstance(val, ast.ColumnRef) and isinstance(val.fields[-1], ast.String):
        return val.fields[-1].sval
    if isinstance(val, ast.FuncCall):
        return val.funcname[-1].sval
    return "?column?"
