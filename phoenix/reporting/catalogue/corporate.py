"""Corporate roll-ups: a client's subsidiaries side by side (corporate admins only).

"Group" here means the tenants the caller may see — for a corporate admin, its own client's
subsidiaries — never the platform: every table still carries the tenant predicate.
"""

from __future__ import annotations

from phoenix.reporting import params as p
from phoenix.reporting.report import Report

CORPORATE = ("corporate_admin",)
#: Indicative conversion rates for group reporting (treasury publishes them monthly; PHX-377).
FX = """fx (currency_code, rate) AS (
    VALUES ('EUR', 1.0), ('USD', 0.92), ('GBP', 1.17), ('CHF', 1.04), ('JPY', 0.0062)
),
target AS (
    SELECT rate FROM fx WHERE currency_code = %(report_currency)s::text
)"""


def report_currency() -> p.Param:
    return p.Param("report_currency", "currency", default="EUR", description="Currency the group figures are in.")


SUBSIDIARY_COMPARISON = Report(
    name="subsidiary_comparison",
    title="Subsidiary comparison",
    description="Each subsidiary's revenue, collections, receivables, hours and delivery, in one currency, "
                "ranked within the group.",
    roles=CORPORATE,
    cross_tenant=True,
    params=(p.date_from(), p.date_to(), report_currency()),
    template=f"""
WITH {FX},
subsidiaries AS (
    SELECT tn.id AS tenant_id, tn.slug, tn.name, tn.currency_code
    FROM tenants tn
    WHERE tn.id = ANY(%(tenant_ids)s::uuid[])
),
revenue AS (
    SELECT i.tenant_id, sum(i.total * fx.rate) AS revenue, count(*) AS invoices
    FROM invoices i JOIN fx ON fx.currency_code = i.currency_code
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY i.tenant_id
),
collections AS (
    SELECT pm.tenant_id, sum(pm.amount * fx.rate) AS collected
    FROM payments pm JOIN fx ON fx.currency_code = pm.currency_code
    WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND pm.paid_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY pm.tenant_id
),
receivables AS (
    SELECT i.tenant_id, sum((i.total - coalesce(pd.paid, 0)) * fx.rate) AS open_receivables
    FROM invoices i
    JOIN fx ON fx.currency_code = i.currency_code
    LEFT JOIN (SELECT pm.invoice_id, sum(pm.amount) AS paid FROM payments pm
                WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[]) GROUP BY pm.invoice_id) pd
           ON pd.invoice_id = i.id
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND i.status IN ('sent', 'overdue')
    GROUP BY i.tenant_id
),
delivery AS (
    SELECT te.tenant_id, sum(te.hours) AS hours,
           coalesce(sum(te.hours) FILTER (WHERE te.billable), 0) AS billable_hours
    FROM time_entries te
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY te.tenant_id
),
portfolio AS (
    SELECT pr.tenant_id, count(*) FILTER (WHERE pr.status = 'active') AS active_projects, count(*) AS projects
    FROM projects pr
    WHERE pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY pr.tenant_id
)
SELECT s.tenant_id, s.slug, s.name AS subsidiary, s.currency_code AS local_currency,
       %(report_currency)s::text AS report_currency,
       coalesce(r.invoices, 0) AS invoices,
       round(coalesce(r.revenue, 0) / t.rate, 2) AS revenue,
       round(coalesce(c.collected, 0) / t.rate, 2) AS collected,
       round(coalesce(rc.open_receivables, 0) / t.rate, 2) AS open_receivables,
       coalesce(d.hours, 0) AS hours,
       round(100 * coalesce(d.billable_hours, 0) / nullif(d.hours, 0), 1) AS billable_pct,
       coalesce(pf.active_projects, 0) AS active_projects,
       coalesce(pf.projects, 0) AS projects,
       round(100 * coalesce(r.revenue, 0) / nullif(sum(r.revenue) OVER (), 0), 2) AS share_of_group_revenue_pct,
       rank() OVER (ORDER BY coalesce(r.revenue, 0) DESC) AS revenue_rank,
       rank() OVER (ORDER BY coalesce(d.billable_hours, 0) DESC) AS billable_hours_rank
FROM subsidiaries s
CROSS JOIN target t
LEFT JOIN revenue r ON r.tenant_id = s.tenant_id
LEFT JOIN collections c ON c.tenant_id = s.tenant_id
LEFT JOIN receivables rc ON rc.tenant_id = s.tenant_id
LEFT JOIN delivery d ON d.tenant_id = s.tenant_id
LEFT JOIN portfolio pf ON pf.tenant_id = s.tenant_id
ORDER BY revenue_rank, s.slug
""")


GROUP_REVENUE_ROLLUP = Report(
    name="group_revenue_rollup",
    title="Group revenue roll-up",
    description="Revenue per subsidiary and month in one currency, its share of the group's month, and the "
                "group's running total.",
    roles=CORPORATE,
    cross_tenant=True,
    params=(p.date_from(), p.date_to(), report_currency()),
    template=f"""
WITH {FX},
monthly AS (
    SELECT i.tenant_id, date_trunc('month', i.issued_on)::date AS month,
           sum(i.total * fx.rate) / (SELECT rate FROM target) AS revenue
    FROM invoices i JOIN fx ON fx.currency_code = i.currency_code
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY 1, 2
)
SELECT m.tenant_id, tn.slug, m.month, %(report_currency)s::text AS report_currency,
       round(m.revenue, 2) AS revenue,
       round(100 * m.revenue / sum(m.revenue) OVER (PARTITION BY m.month), 2) AS share_of_group_month_pct,
       rank() OVER (PARTITION BY m.month ORDER BY m.revenue DESC) AS rank_in_month,
       round(sum(m.revenue) OVER (PARTITION BY m.tenant_id ORDER BY m.month), 2) AS subsidiary_running_revenue,
       round(sum(m.revenue) OVER (ORDER BY m.month RANGE UNBOUNDED PRECEDING), 2) AS group_running_revenue
FROM monthly m
JOIN tenants tn ON tn.id = m.tenant_id AND tn.id = ANY(%(tenant_ids)s::uuid[])
ORDER BY m.month, rank_in_month
""")


GROUP_DELIVERY_ROLLUP = Report(
    name="group_delivery_rollup",
    title="Group delivery roll-up",
    description="Per subsidiary: hours, billable share, open and overdue tasks, against the group average.",
    roles=CORPORATE,
    cross_tenant=True,
    params=(p.date_from(), p.date_to(), p.as_of()),
    template="""
WITH hours AS (
    SELECT te.tenant_id, sum(te.hours) AS hours,
           coalesce(sum(te.hours) FILTER (WHERE te.billable), 0) AS billable_hours,
           count(DISTINCT te.user_id) AS people
    FROM time_entries te
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY te.tenant_id
),
backlog AS (
    SELECT t.tenant_id,
           count(*) FILTER (WHERE t.status <> 'done') AS open_tasks,
           count(*) FILTER (WHERE t.status <> 'done' AND t.due_on < %(as_of)s) AS overdue_tasks
    FROM tasks t
    WHERE t.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY t.tenant_id
),
per_subsidiary AS (
    SELECT tn.id AS tenant_id, tn.slug,
           coalesce(h.hours, 0) AS hours, coalesce(h.billable_hours, 0) AS billable_hours,
           coalesce(h.people, 0) AS people,
           coalesce(b.open_tasks, 0) AS open_tasks, coalesce(b.overdue_tasks, 0) AS overdue_tasks
    FROM tenants tn
    LEFT JOIN hours h ON h.tenant_id = tn.id
    LEFT JOIN backlog b ON b.tenant_id = tn.id
    WHERE tn.id = ANY(%(tenant_ids)s::uuid[])
)
SELECT ps.*,
       round(100 * ps.billable_hours / nullif(ps.hours, 0), 1) AS billable_pct,
       round(ps.hours - avg(ps.hours) OVER (), 2) AS hours_vs_group_average,
       round(100.0 * ps.overdue_tasks / nullif(ps.open_tasks, 0), 1) AS overdue_share_pct,
       rank() OVER (ORDER BY ps.overdue_tasks DESC) AS overdue_rank
FROM per_subsidiary ps
ORDER BY ps.slug
""")


REPORTS = (SUBSIDIARY_COMPARISON, GROUP_REVENUE_ROLLUP, GROUP_DELIVERY_ROLLUP)
