"""Customer reports: segments and lifetime value."""

from __future__ import annotations

from phoenix.reporting import params as p
from phoenix.reporting.report import Report

ADMINS = ("admin", "corporate_admin")


CUSTOMER_SEGMENTS = Report(
    name="customer_segments",
    title="Customer segments",
    description="Customers, revenue and average invoice per segment, country or region.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.currency(),
            p.enum("group_by", ("segment", "country", "region"), "segment", "How customers are grouped.")),
    template="""
SELECT s.tenant_id, s.group_key, s.currency_code, s.customers, s.invoiced_customers, s.invoices,
       round(s.revenue, 2) AS revenue,
       round(s.revenue / nullif(s.invoices, 0), 2) AS average_invoice,
       round(100 * s.revenue / nullif(sum(s.revenue) OVER (PARTITION BY s.tenant_id, s.currency_code), 0), 2)
           AS share_pct
FROM (
    SELECT c.tenant_id,
           CASE %(group_by)s::text WHEN 'segment' THEN c.segment
                                   WHEN 'country' THEN c.country_code::text
                                   ELSE co.region END AS group_key,
           coalesce(inv.currency_code, tn.currency_code) AS currency_code,
           count(DISTINCT c.id) AS customers,
           count(DISTINCT inv.customer_id) AS invoiced_customers,
           coalesce(sum(inv.invoices), 0) AS invoices,
           coalesce(sum(inv.revenue), 0) AS revenue
    FROM customers c
    JOIN tenants tn ON tn.id = c.tenant_id AND tn.id = ANY(%(tenant_ids)s::uuid[])
    LEFT JOIN countries co ON co.code = c.country_code
    LEFT JOIN (
        SELECT i.customer_id, i.currency_code, count(*) AS invoices, sum(i.total) AS revenue
        FROM invoices i
        WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
          AND i.status IN ('sent', 'paid', 'overdue')
          AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
          AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
        GROUP BY i.customer_id, i.currency_code
    ) inv ON inv.customer_id = c.id
    WHERE c.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY 1, 2, 3
) s
ORDER BY s.tenant_id, s.currency_code, s.revenue DESC, s.group_key
""")


CUSTOMER_LIFETIME = Report(
    name="customer_lifetime",
    title="Customer lifetime value",
    description="Per customer: first and last invoice, lifetime revenue, average gap between invoices, "
                "revenue quartile.",
    roles=ADMINS,
    params=(p.currency(), p.Param("min_invoices", "int", default=1, minimum=1, maximum=100,
                                  description="Only customers with at least this many invoices."),
            p.limit(100)),
    template="""
WITH history AS (
    SELECT i.tenant_id, i.customer_id, i.currency_code, i.issued_on, i.total,
           i.issued_on - lag(i.issued_on) OVER (PARTITION BY i.tenant_id, i.customer_id
                                                ORDER BY i.issued_on, i.number) AS gap_days
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
),
lifetime AS (
    SELECT h.tenant_id, h.customer_id, h.currency_code,
           count(*) AS invoices,
           min(h.issued_on) AS first_invoice_on,
           max(h.issued_on) AS last_invoice_on,
           sum(h.total) AS revenue,
           avg(h.gap_days) AS avg_gap_days
    FROM history h
    GROUP BY 1, 2, 3
    HAVING count(*) >= %(min_invoices)s
)
SELECT l.tenant_id, l.customer_id, c.name AS customer_name, c.segment, l.currency_code, l.invoices,
       l.first_invoice_on, l.last_invoice_on,
       round(l.revenue, 2) AS lifetime_revenue,
       round(l.avg_gap_days, 1) AS avg_days_between_invoices,
       (SELECT round(coalesce(sum(pm.amount), 0), 2) FROM payments pm
         WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[])
           AND pm.invoice_id IN (SELECT i2.id FROM invoices i2
                                  WHERE i2.customer_id = l.customer_id
                                    AND i2.tenant_id = ANY(%(tenant_ids)s::uuid[]))) AS lifetime_collected,
       ntile(4) OVER (PARTITION BY l.tenant_id ORDER BY l.revenue DESC) AS revenue_quartile
FROM lifetime l
JOIN customers c ON c.id = l.customer_id AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
ORDER BY l.tenant_id, l.revenue DESC, c.name
LIMIT %(limit)s
""")


REPORTS = (CUSTOMER_SEGMENTS, CUSTOMER_LIFETIME)
