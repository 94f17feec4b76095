"""The engine behind :func:`harness.sql.analysis.analyze`: scopes, relations and what is known of their columns.

A statement becomes a tree of scopes (one per SELECT, CTE, subquery, UNION branch, DML target). Each
scope holds its FROM relations and its *conditions*: the top-level conjuncts of WHERE and of JOIN ...
ON, each with the relations it filters (WHERE: all; INNER ON: both sides; LEFT ON: the right side
only; FULL ON: none). A tenant table is *constrained* when one of the conditions that filter it is a
tenant predicate for it; since predicates can lean on other relations ("equal to the tenant column of
a constrained table"), the answer is a fixpoint: rounds over every tenant-table relation of the whole
statement until nothing changes. Facts only ever grow, so the rounds terminate.

What a column is known to hold (a :class:`Fact`) is what joins carry: a tenant id of a constrained row
(``tenant``), a key column of a constrained row (``key``, for joins along foreign keys), or a value
fixed for the statement (``const``: parameters, literals, the tenant context). Derived relations
(subqueries, CTEs, UNIONs) expose the facts of their output expressions (:mod:`._outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, SubLinkType
from pglast.stream import RawStream

from harness.sql.catalogue import Catalogue


#: Rules from the strongest evidence to the weakest (a key join assumes parent and child share a tenant).
RULES = ("direct", "direct-any", "direct-in", "tenant-join", "subquery", "exists", "or", "key-join")


@dataclass(frozen=True)
class Fact:
    kind: str  # "tenant" | "key" | "const"
    table: str = ""
    column: str = ""
    how: str = ""


@dataclass
class Cond:
    """A conjunct and the relations it filters; ``covers`` when it filters its whole scope (WHERE-like)."""

    node: ast.Node
    scope: "Scope"
    filters: list["Rel"]
    covers: bool


@dataclass(eq=False)
class Rel:
    name: str
    kind: str  # "table" | "derived" | "function"
    scope: "Scope"
    table: str | None = None
    tenant_col: str | None = None
    columns: tuple[str, ...] | None = None
    output: object = None  # a harness.sql._outputs.Output for derived relations
    mode: str = "read"
    conds: list[Cond] = field(default_factory=list)
    constrained: bool = False
    rule: str = ""
    why: str = ""

    def has(self, col: str) -> bool | None:
        if self.kind == "derived":
            cols = self.output.columns()
            return None if cols is None else col in cols
        return None if self.columns is None else col in self.columns


class Scope:
    def __init__(self, parent: "Scope | None", ctes: dict):
        self.parent = parent
        self.ctes = ctes
        self.rels: dict[str, Rel] = {}
        self.conds: list[Cond] = []

    def resolve(self, ref: ast.ColumnRef) -> tuple[Rel, str] | None:
        names = [f.sval for f in ref.fields if isinstance(f, ast.String)]
        if len(names) != len(ref.fields) or not names:
            return None  # rel.* or something stranger
        col = names[-1]
        scope = self
        while scope is not None:
            if len(names) >= 2:
                rel = scope.rels.get(names[-2])
                if rel is not None:
                    return rel, col
            else:
                known = [r for r in scope.rels.values() if r.has(col) is True]
                unknown = [r for r in scope.rels.values() if r.has(col) is None]
                if len(known) == 1:
                    return known[0], col
                if len(known) > 1:
                    return None
                if len(unknown) == 1:
                    return unknown[0], col
                if unknown:
                    return None
            scope = scope.parent
        return None


# ---------------------------------------------------------------------- expressions
def unwrap(node):
    while isinstance(node, (ast.TypeCast, ast.CollateClause)):
        node = node.arg
    return node


def const_kind(node, cat: Catalogue) -> str | None:
    """``param``/``tenant context``/``literal`` when ``node`` is fixed for the statement, else None."""
    kinds: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
            continue
        if not isinstance(n, ast.Node):
            continue
        if isinstance(n, (ast.ColumnRef, ast.SubLink, ast.A_Star)):
            return None
        if isinstance(n, ast.FuncCall):
            if n.agg_star or n.over is not None or n.agg_filter is not None:
                return None
            if n.funcname[-1].sval in cat.context_functions:
                kinds.add("tenant context")
        elif isinstance(n, ast.ParamRef):
            kinds.add("param")
        elif isinstance(n, ast.A_Const):
            if n.isnull:
                return None
            kinds.add("literal")
        stack.extend(getattr(n, s) for s in n.__slots__)
    if "tenant context" in kinds:
        return "tenant context"
    return "param" if "param" in kinds else ("literal" if kinds else None)


def deparse(node) -> str:
    try:
        return RawStream()(node)
    except Exception:  # pragma: no cover - a node the printer does not know
        return type(node).__name__


def conjuncts(node) -> list:
    node = unwrap(node)
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [c for a in node.args for c in conjuncts(a)]
    return [node]


def sublinks(node):
    """SubLinks in an expression, not descending into the subqueries themselves."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(n)
        elif isinstance(n, ast.SubLink):
            yield n
            stack.append(n.testexpr)
        elif isinstance(n, ast.Node) and not isinstance(n, (ast.SelectStmt, ast.RangeSubselect)):
            stack.extend(getattr(n, s) for s in n.__slots__)


def rel_of(node, scope: Scope, target: Rel) -> str | None:
    """The column of ``target`` that ``node`` names (casts ignored), else None."""
    node = unwrap(node)
    if isinstance(node, ast.ColumnRef):
        hit = scope.resolve(node)
        if hit is not None and hit[0] is target:
            return hit[1]
    return None


# ---------------------------------------------------------------------- the engine
class Engine:
    """Builds the scopes of one statement, then computes which tenant-table relations are constrained."""

    def __init__(self, cat: Catalogue):
        self.cat = cat
        self.rels: list[Rel] = []  # every tenant-table relation, in order of appearance
        self.subqueries: dict[int, tuple[object, list[Scope]]] = {}  # id(SubLink) -> (Output, branch scopes)
        self.post: list = []  # write-target checks run after the fixpoint
        self.explain = False  # deparse conditions for ``why`` only once the answer is known (it is slow)

    def text(self, node) -> str:
        return deparse(node) if self.explain else ""

    # -------------------------------------------------------------- facts
    def fact(self, rel: Rel, col: str) -> Fact | None:
        if rel.kind == "derived":
            return rel.output.fact(col, self)
        if rel.kind != "table" or rel.tenant_col is None or not rel.constrained:
            return None
        if col == rel.tenant_col:
            return Fact("tenant", rel.table, col, f"{rel.name}.{col}")
        return Fact("key", rel.table, col, f"{rel.name}.{col}")

    def expr_fact(self, node, scope: Scope) -> Fact | None:
        inner = unwrap(node)
        if isinstance(inner, ast.ColumnRef):
            hit = scope.resolve(inner)
            return self.fact(*hit) if hit else None
        if isinstance(inner, ast.SubLink) and inner.subLinkType == SubLinkType.EXPR_SUBLINK:
            out = self.subqueries.get(id(inner))
            return out[0].fact_at(0, self) if out else None
        kind = const_kind(node, self.cat)
        return Fact("const", how=kind) if kind else None

    # -------------------------------------------------------------- the fixpoint
    def solve(self) -> None:
        changed = True
        while changed:
            changed = False
            for rel in self.rels:
                if not rel.constrained and any(self.holds(c.node, c.scope, rel) for c in rel.conds):
                    rel.constrained = changed = True
        self.explain = True
        for rel in self.rels:  # facts are final now: name the strongest rule that holds
            hits = [h for h in (self.holds(c.node, c.scope, rel) for c in rel.conds) if h]
            if hits:
                rel.rule, rel.why = min(hits, key=lambda h: RULES.index(h[0]))
        for check in self.post:
            check()

    def holds(self, node, scope: Scope, rel: Rel) -> tuple[str, str] | None:
        """(rule, why) when ``node`` (a filtering condition) limits ``rel`` to the tenant context."""
        node = unwrap(node)
        if isinstance(node, UsingEq):
            return node.holds(self, rel)
        if isinstance(node, ast.BoolExpr):
            if node.boolop == BoolExprType.AND_EXPR:
                return next(filter(None, (self.holds(a, scope, rel) for a in node.args)), None)
            if node.boolop == BoolExprType.OR_EXPR:
                arms = [self.holds(a, scope, rel) for a in node.args]
                if all(arms):
                    return "or", "every arm of an OR constrains it: " + "; ".join(a[1] for a in arms)
            return None  # NOT: rows outside the predicate are exactly what it keeps
        if isinstance(node, ast.A_Expr):
            return self._a_expr(node, scope, rel)
        if isinstance(node, ast.SubLink):
            return self._sublink(node, scope, rel)
        return None

    def _a_expr(self, node: ast.A_Expr, scope, rel):
        op = node.name[-1].sval if node.name else ""
        if op != "=":
            return None
        if node.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_NOT_DISTINCT):
            left, right = unwrap(node.lexpr), unwrap(node.rexpr)
            if isinstance(left, ast.RowExpr) and isinstance(right, ast.RowExpr):
                for a, b in zip(left.args, right.args):
                    hit = self._eq(a, b, scope, rel, node) or self._eq(b, a, scope, rel, node)
                    if hit:
                        return hit
                return None
            return self._eq(node.lexpr, node.rexpr, scope, rel, node) or \
                self._eq(node.rexpr, node.lexpr, scope, rel, node)
        if node.kind == A_Expr_Kind.AEXPR_OP_ANY:
            if rel_of(node.lexpr, scope, rel) != rel.tenant_col:
                return None
            kind = const_kind(node.rexpr, self.cat)
            fact = kind and Fact("const", how=kind) or self.expr_fact(node.rexpr, scope)
            if fact is not None and fact.kind == "const":
                return "direct-any", f"{self.text(node)} ({fact.how})"
            return None
        if node.kind == A_Expr_Kind.AEXPR_IN:
            if rel_of(node.lexpr, scope, rel) != rel.tenant_col:
                return None
            kinds = [const_kind(e, self.cat) for e in node.rexpr]
            if kinds and all(kinds):
                return "direct-in", f"{self.text(node)} ({'/'.join(sorted(set(kinds)))})"
        return None

    def _eq(self, mine, other, scope, rel, node):
        col = rel_of(mine, scope, rel)
        if col is None:
            return None
        other_inner = unwrap(other)
        if isinstance(other_inner, ast.ColumnRef):
            hit = scope.resolve(other_inner)
            if hit is None or hit[0] is rel:
                return None
            fact = self.fact(*hit)
        else:
            fact = self.expr_fact(other, scope)
        if fact is None:
            return None
        text = self.text(node)
        if col == rel.tenant_col:
            if fact.kind == "const":
                return "direct", f"{text} ({fact.how})"
            if fact.kind == "tenant":
                return "tenant-join", f"{text}: {fact.how} is the tenant column of a constrained row"
            return None
        if fact.kind == "key" and rel.table is not None:
            fk = self.cat.foreign_key(rel.table, col, fact.table, fact.column)
            if fk is not None:
                tenant_cols = (self.cat.tenant_columns.get(fk.table), self.cat.tenant_columns.get(fk.ref_table))
                enforced = tenant_cols in fk.pairs()
                return "key-join", (
                    f"{text}: joined on foreign key {fk.table}({', '.join(fk.columns)}) -> "
                    f"{fk.ref_table}({', '.join(fk.ref_columns)}) to constrained {fact.how}; "
                    + ("the key includes the tenant column" if enforced else
                       "assumes the referencing row has its parent's tenant (the key does not include it)"))
        return None

    def _sublink(self, node: ast.SubLink, scope, rel):
        out, scopes = self.subqueries.get(id(node), (None, []))
        if out is None:
            return None
        if node.subLinkType == SubLinkType.ANY_SUBLINK and (not node.operName or node.operName[-1].sval == "="):
            col = rel_of(node.testexpr, scope, rel)
            fact = out.fact_at(0, self) if col is not None else None
            if fact is not None and col == rel.tenant_col and fact.kind in ("tenant", "const"):
                return "subquery", f"{self.text(node.testexpr)} IN (subquery whose output {fact.how or fact.kind} is constrained)"
            if fact is not None and fact.kind == "key" and rel.table is not None and \
                    self.cat.foreign_key(rel.table, col, fact.table, fact.column):
                return "key-join", f"{self.text(node.testexpr)} IN (subquery of constrained {fact.how}) along a foreign key"
        if node.subLinkType in (SubLinkType.EXISTS_SUBLINK, SubLinkType.ANY_SUBLINK):
            # A correlated predicate inside the subquery restricts the outer row (every branch must).
            found = []
            for inner in scopes:
                hit = next(filter(None, (self.holds(c.node, inner, rel) for c in inner.conds if c.covers)), None)
                if hit is None:
                    return None
                found.append(hit)
            if found:
                return "exists", "inside the subquery: " + "; ".join(h[1] for h in found)
        return None


class UsingEq:
    """``JOIN ... USING (col)``: the right relation's column equals one of the left side's."""

    def __init__(self, left: list[Rel], right: list[Rel], col: str, text: str):
        self.left, self.right, self.col, self.text = left, right, col, text

    def holds(self, engine: Engine, rel: Rel):
        others = self.left if rel in self.right else self.right
        if self.col != rel.tenant_col:
            return None
        for other in others:
            if other.has(self.col) is False:
                continue
            fact = engine.fact(other, self.col)
            if fact is not None and fact.kind in ("tenant", "const"):
                return "tenant-join", f"{self.text}: {fact.how or other.name} is constrained"
        return None
