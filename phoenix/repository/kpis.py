"""KPI widgets: per-tenant counts, sums and averages, and the top customers by invoiced amount."""

from __future__ import annotations

from phoenix.repository.base import Scope

_PER_TENANT = """
SELECT t.id AS tenant_id, t.name AS tenant_name, t.currency_code,
       (SELECT count(*) FROM projects p WHERE p.tenant_id = t.id AND p.status = 'active') AS active_projects,
       (SELECT count(*) FROM tasks k WHERE k.tenant_id = t.id AND k.status <> 'done') AS open_tasks,
       (SELECT count(*) FROM tasks k WHERE k.tenant_id = t.id AND k.status <> 'done'
                                       AND k.due_on < current_date) AS overdue_tasks,
       (SELECT count(*) FROM invoices i WHERE i.tenant_id = t.id AND i.status = 'overdue') AS overdue_invoices,
       (SELECT coalesce(sum(i.total), 0) FROM invoices i WHERE i.tenant_id = t.id AND i.status <> 'void') AS invoiced,
       (SELECT coalesce(avg(i.total), 0) FROM invoices i WHERE i.tenant_id = t.id AND i.status <> 'void') AS average_invoice,
       (SELECT coalesce(sum(pay.amount), 0) FROM payments pay WHERE pay.tenant_id = t.id) AS collected,
       (SELECT coalesce(sum(e.hours), 0) FROM time_entries e WHERE e.tenant_id = t.id) AS hours_logged
  FROM tenants t
 WHERE t.id = ANY(%(t)s::uuid[])
 ORDER BY t.name, t.id
"""

_TOP_CUSTOMERS = """
SELECT c.id, c.tenant_id, c.name, sum(i.total) AS invoiced, count(i.id) AS invoices
  FROM customers c
  JOIN invoices i ON i.customer_id = c.id AND i.tenant_id = c.tenant_id
 WHERE c.tenant_id = ANY(%(t)s::uuid[]) AND i.status <> 'void'
 GROUP BY c.id, c.tenant_id, c.name
 ORDER BY invoiced DESC, c.id
 LIMIT 5
"""


async def summary(scope: Scope) -> dict:
    async with scope.tx() as conn:
        tenants = await (await conn.execute(_PER_TENANT, {"t": scope.tenants})).fetchall()
        top = await (await conn.execute(_TOP_CUSTOMERS, {"t": scope.tenants})).fetchall()
    return {"tenants": tenants, "top_customers": top,
            "totals": {k: sum(float(t[k]) for t in tenants)
                       for k in ("active_projects", "open_tasks", "overdue_tasks", "overdue_invoices",
                                 "invoiced", "collected", "hours_logged")}}
