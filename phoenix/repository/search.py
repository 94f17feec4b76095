"""Global search across projects, tasks, customers and invoices (ILIKE on their names)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from phoenix.repository.base import Page, Scope, escape_like

#: type -> (table, title column, subtitle column, searched columns)
KINDS = {
    "project": ("projects", "name", "code", ("name", "code")),
    "task": ("tasks", "title", "status", ("title",)),
    "customer": ("customers", "name", "email", ("name", "email")),
    "invoice": ("invoices", "number", "status", ("number",)),
}


def _query(kinds: Sequence[str], tenant_filtered: bool) -> sql.Composable:
    branches = []
    for kind in kinds:
        table, title, subtitle, searched = KINDS[kind]
        match = sql.SQL(" OR ").join(sql.SQL("{}::text ILIKE %(q)s").format(sql.Identifier(c)) for c in searched)
        tenant = sql.SQL("tenant_id = ANY(%(t)s::uuid[]) AND ") if tenant_filtered else sql.SQL("")
        branches.append(sql.SQL("SELECT {kind} AS type, id, tenant_id, {title}::text AS title, "
                                "{subtitle}::text AS subtitle FROM {table} WHERE {tenant}({match})").format(
            kind=sql.Literal(kind), title=sql.Identifier(title), subtitle=sql.Identifier(subtitle),
            table=sql.Identifier(table), tenant=tenant, match=match))
    return sql.SQL("SELECT *, count(*) OVER () AS total FROM ({}) hits ORDER BY type, title, id "
                   "LIMIT %(limit)s OFFSET %(offset)s").format(sql.SQL(" UNION ALL ").join(branches))


async def search(scope: Scope, q: str, kinds: Sequence[str], limit: int, offset: int) -> Page:
    params = {"q": f"%{escape_like(q)}%", "t": scope.tenants, "limit": limit, "offset": offset}
    if scope.db.fault("search-cross-tenant"):
        # Planted (search-cross-tenant): search moved to the reporting connection (BYPASSRLS) for its
        # trigram indexes, and the UNION was built without the tenant predicate ("RLS covers it").
        async with scope.db.reporting_transaction(scope.principal) as conn:
            rows = await (await conn.execute(_query(kinds, tenant_filtered=False), params)).fetchall()
    else:
        async with scope.tx() as conn:
            rows = await (await conn.execute(_query(kinds, tenant_filtered=True), params)).fetchall()
    total = int(rows[0]["total"]) if rows else 0
    return Page([{k: v for k, v in r.items() if k != "total"} for r in rows], total, offset, limit)
