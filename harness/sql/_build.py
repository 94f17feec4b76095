"""Turn a parsed statement (pglast AST) into the scopes, relations and conditions of :mod:`._scopes`.

One function per construct: SELECT (with its WITH, FROM, WHERE and every subquery), set operations,
VALUES, INSERT/UPDATE/DELETE/MERGE targets. Subqueries anywhere in an expression are analysed too,
so that every tenant table the statement touches is found, wherever it hides.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import JoinType, OnConflictAction, SetOperation

from harness.sql._outputs import CteRef, Output, Renamed, SelectOutput, SetOutput, ValuesOutput
from harness.sql._scopes import Cond, Engine, Rel, Scope, UsingEq, conjuncts, deparse, sublinks


def _names(items) -> list[str]:
    return [i.sval for i in items or () if isinstance(i, ast.String)]


class Builder:
    def __init__(self, engine: Engine):
        self.e = engine
        self.cat = engine.cat

    # -------------------------------------------------------------- statements
    def statement(self, node) -> None:
        if isinstance(node, _QUERIES):
            self.query(node, None, {})
        else:  # EXPLAIN, CREATE TABLE AS, DECLARE CURSOR, PREPARE, COPY (query): the query inside
            for child in _queries_in(node):
                self.statement(child)

    def _with(self, with_clause, parent: Scope | None, ctes: dict) -> dict:
        if with_clause is None:
            return ctes
        ctes = dict(ctes)
        for cte in with_clause.ctes:
            ref = CteRef(cte.ctename)
            ctes[cte.ctename] = ref  # visible to itself (RECURSIVE) and to the CTEs after it
            out = self.query(cte.ctequery, parent, ctes)
            names = _names(cte.aliascolnames)
            ref.target = Renamed(out, names) if names else out
        return ctes

    def query(self, node, parent: Scope | None, ctes: dict) -> Output:
        """Any statement that yields rows (a SELECT, or DML with RETURNING inside a CTE)."""
        if isinstance(node, ast.SelectStmt):
            return self.select(node, parent, ctes)
        if isinstance(node, ast.InsertStmt):
            return self.insert(node, parent, ctes)
        if isinstance(node, ast.UpdateStmt):
            return self.update(node, parent, ctes)
        if isinstance(node, ast.DeleteStmt):
            return self.delete(node, parent, ctes)
        if isinstance(node, ast.MergeStmt):
            return self.merge(node, parent, ctes)
        return ValuesOutput([], Scope(parent, ctes))

    # -------------------------------------------------------------- SELECT
    def select(self, node: ast.SelectStmt, parent: Scope | None, ctes: dict) -> Output:
        ctes = self._with(node.withClause, parent, ctes)
        if node.op != SetOperation.SETOP_NONE:
            branches = [self.select(b, parent, ctes) for b in (node.larg, node.rarg)]
            flat = []
            for b in branches:  # a UNION b UNION c parses as a tree; one meet over all branches
                same = isinstance(b, SetOutput) and b.op == node.op
                flat.extend(b.branches if same else [b])
            self._subqueries_in([node.sortClause, node.limitCount, node.limitOffset], Scope(parent, ctes))
            return SetOutput(node.op, flat)
        scope = Scope(parent, ctes)
        if node.valuesLists:
            self._subqueries_in(node.valuesLists, scope)
            return ValuesOutput([tuple(row) for row in node.valuesLists], scope)
        for item in node.fromClause or ():
            self.from_item(item, scope)
        if node.whereClause is not None:
            self.condition(node.whereClause, scope, list(scope.rels.values()), covers=True)
        self._subqueries_in([node.targetList, node.whereClause, node.havingClause, node.groupClause,
                             node.sortClause, node.limitCount, node.limitOffset, node.distinctClause,
                             node.windowClause], scope)
        return SelectOutput(node.targetList, scope)

    def condition(self, expr, scope: Scope, filters: list[Rel], covers: bool) -> None:
        for conj in conjuncts(expr):
            cond = Cond(conj, scope, filters, covers)
            scope.conds.append(cond)
            for rel in filters:
                rel.conds.append(cond)

    def _subqueries_in(self, exprs, scope: Scope) -> None:
        for sub in sublinks(tuple(e for e in exprs if e is not None)):
            if id(sub) in self.e.subqueries:
                continue
            out = self.query(sub.subselect, scope, scope.ctes)
            self.e.subqueries[id(sub)] = (out, _branch_scopes(out))

    # -------------------------------------------------------------- FROM
    def from_item(self, item, scope: Scope, preserved: bool = True) -> list[Rel]:
        """Add the relations of one FROM item to ``scope``; return them (for join filter sets).

        ``preserved``: no outer join above this item null-extends it, so a failing ON here removes rows
        of the whole scope (what a correlated EXISTS needs to restrict the outer row).
        """
        if isinstance(item, ast.RangeVar):
            return [self._range_var(item, scope)]
        if isinstance(item, ast.RangeSubselect):
            parent = scope if item.lateral else scope.parent
            out = self.query(item.subquery, parent, scope.ctes)
            alias = item.alias.aliasname if item.alias else f"subquery{len(scope.rels)}"
            names = _names(item.alias.colnames) if item.alias else []
            return [self._add(scope, Rel(alias, "derived", scope, output=Renamed(out, names) if names else out))]
        if isinstance(item, ast.JoinExpr):
            kind = item.jointype
            inner = kind == JoinType.JOIN_INNER
            left = self.from_item(item.larg, scope, preserved and kind in (JoinType.JOIN_INNER, JoinType.JOIN_LEFT))
            right = self.from_item(item.rarg, scope, preserved and kind in (JoinType.JOIN_INNER, JoinType.JOIN_RIGHT))
            filters = {JoinType.JOIN_INNER: left + right, JoinType.JOIN_LEFT: right,
                       JoinType.JOIN_RIGHT: left}.get(kind, [])
            if item.quals is not None:
                self.condition(item.quals, scope, filters, covers=inner and preserved)
                self._subqueries_in([item.quals], scope)
            for col in _names(item.usingClause):
                cond = UsingEq(left, right, col, f"JOIN ... USING ({col})")
                for rel in filters:
                    rel.conds.append(Cond(cond, scope, filters, False))
            return left + right
        if isinstance(item, ast.RangeFunction):
            self._subqueries_in([item.functions], scope)
            alias = item.alias.aliasname if item.alias else _function_name(item)
            names = _names(item.alias.colnames) if item.alias else []
            if not names and item.coldeflist:
                names = [c.colname for c in item.coldeflist]
            return [self._add(scope, Rel(alias, "function", scope, columns=tuple(names) or None))]
        if isinstance(item, ast.RangeTableSample):
            return self.from_item(item.relation, scope)
        return []

    def _range_var(self, item: ast.RangeVar, scope: Scope, mode: str = "read") -> Rel:
        alias = item.alias.aliasname if item.alias else item.relname
        cte = None if item.schemaname else _visible_cte(scope, item.relname)
        if cte is not None:
            names = _names(item.alias.colnames) if item.alias else []
            return self._add(scope, Rel(alias, "derived", scope, output=Renamed(cte, names) if names else cte))
        tenant_col = self.cat.tenant_columns.get(item.relname)
        columns = self.cat.columns.get(item.relname)
        if columns is None and tenant_col is not None:
            columns = None  # unknown: resolution stays conservative
        rel = Rel(alias, "table", scope, table=item.relname, tenant_col=tenant_col,
                  columns=tuple(columns) if columns is not None else None, mode=mode)
        if tenant_col is not None:
            self.e.rels.append(rel)
        return self._add(scope, rel)

    @staticmethod
    def _add(scope: Scope, rel: Rel) -> Rel:
        scope.rels[rel.name] = rel
        return rel

    # -------------------------------------------------------------- writes
    def insert(self, node: ast.InsertStmt, parent: Scope | None, ctes: dict) -> Output:
        ctes = self._with(node.withClause, parent, ctes)
        scope = Scope(parent, ctes)
        target = self._range_var(node.relation, scope, mode="write")
        source = self.query(node.selectStmt, parent, ctes) if node.selectStmt is not None else None
        cols = [c.name for c in node.cols] if node.cols else list(self.cat.columns.get(target.table, ()))
        out = SelectOutput(node.returningClause.exprs if node.returningClause else (), scope)
        if target.tenant_col is None:
            return out

        def check() -> None:
            if target.tenant_col not in cols:
                target.why = (f"INSERT INTO {target.table} does not set {target.tenant_col} "
                              "(a column default decides the tenant)")
            else:
                fact = source.fact_at(cols.index(target.tenant_col), self.e) if source is not None else None
                if fact is not None and fact.kind in ("const", "tenant"):
                    target.constrained = True
                    target.rule = "insert-values" if isinstance(source, ValuesOutput) else "insert-select"
                    target.why = f"{target.tenant_col} is set from {fact.how or fact.kind}"
                else:
                    target.why = f"{target.tenant_col} is not set from the tenant context or a constrained row"
            conflict = node.onConflictClause
            if target.constrained and conflict is not None and conflict.action == OnConflictAction.ONCONFLICT_UPDATE:
                arbiter = [e.name for e in (conflict.infer.indexElems if conflict.infer else ()) if e.name]
                if target.tenant_col not in arbiter:
                    target.constrained, target.rule = False, ""
                    target.why = (f"ON CONFLICT DO UPDATE on a key without {target.tenant_col}: the row it "
                                  "updates may belong to another tenant")
        self.e.post.append(check)
        return out

    def update(self, node: ast.UpdateStmt, parent: Scope | None, ctes: dict) -> Output:
        ctes = self._with(node.withClause, parent, ctes)
        scope = Scope(parent, ctes)
        target = self._range_var(node.relation, scope, mode="write")
        for item in node.fromClause or ():
            self.from_item(item, scope)
        if node.whereClause is not None:
            self.condition(node.whereClause, scope, list(scope.rels.values()), covers=True)
        returning = node.returningClause.exprs if node.returningClause else None
        self._subqueries_in([node.targetList, node.whereClause, returning], scope)
        if target.tenant_col is not None:
            for t in node.targetList:
                if t.name == target.tenant_col:
                    self.e.post.append(lambda t=t: self._tenant_assignment(target, t, scope))
        return SelectOutput(returning or (), scope)

    def _tenant_assignment(self, target: Rel, t, scope: Scope) -> None:
        fact = None if isinstance(t.val, ast.MultiAssignRef) else self.e.expr_fact(t.val, scope)
        if target.constrained and (fact is None or fact.kind not in ("const", "tenant")):
            target.constrained, target.rule = False, ""
            target.why = f"SET {target.tenant_col} = {deparse(t.val)} can move the row to any tenant"

    def delete(self, node: ast.DeleteStmt, parent: Scope | None, ctes: dict) -> Output:
        ctes = self._with(node.withClause, parent, ctes)
        scope = Scope(parent, ctes)
        self._range_var(node.relation, scope, mode="write")
        for item in node.usingClause or ():
            self.from_item(item, scope)
        if node.whereClause is not None:
            self.condition(node.whereClause, scope, list(scope.rels.values()), covers=True)
        returning = node.returningClause.exprs if node.returningClause else None
        self._subqueries_in([node.whereClause, returning], scope)
        return SelectOutput(returning or (), scope)

    def merge(self, node: ast.MergeStmt, parent: Scope | None, ctes: dict) -> Output:
        ctes = self._with(node.withClause, parent, ctes)
        scope = Scope(parent, ctes)
        self._range_var(node.relation, scope, mode="write")
        self.from_item(node.sourceRelation, scope)
        self.condition(node.joinCondition, scope, list(scope.rels.values()), covers=True)
        self._subqueries_in([node.joinCondition, node.mergeWhenClauses], scope)
        return SelectOutput((), scope)


def _visible_cte(scope: Scope | None, name: str):
    return scope.ctes.get(name) if scope is not None else None


def _function_name(item: ast.RangeFunction) -> str:
    try:
        return item.functions[0][0].funcname[-1].sval
    except (AttributeError, IndexError, TypeError):
        return "function"


def _branch_scopes(out: Output) -> list[Scope]:
    if isinstance(out, SetOutput):
        return [s for b in out.branches for s in _branch_scopes(b)]
    if isinstance(out, Renamed):
        return _branch_scopes(out.inner)
    if isinstance(out, (SelectOutput, ValuesOutput)):
        return [out.scope]
    return []


_QUERIES = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def _queries_in(node):
    for name in ("query", "stmt"):
        child = getattr(node, name, None)
        if isinstance(child, _QUERIES):
            yield child
