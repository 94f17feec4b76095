"""Finance reports: revenue, recognition, receivables, the customer ledger, KPIs."""

from __future__ import annotations

from phoenix import faults
from phoenix.reporting import params as p
from phoenix.reporting.report import Report

ADMINS = ("admin", "corporate_admin")
INVOICE_STATUS = ("issued", "any", "draft", "sent", "paid", "overdue", "void")
STATUS_FILTER = """CASE %(status)s::text WHEN 'any' THEN true
                   WHEN 'issued' THEN i.status IN ('sent', 'paid', 'overdue')
                   ELSE i.status = %(status)s::text END"""


REVENUE_BY_MONTH = Report(
    name="revenue_by_month",
    title="Revenue by month",
    description="Invoiced revenue per month and currency, with a running total and the change on the previous month.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.currency(),
            p.enum("status", INVOICE_STATUS, "issued", "Invoice status ('issued' = sent, paid or overdue).")),
    template=f"""
WITH monthly AS (
    SELECT i.tenant_id,
           date_trunc('month', i.issued_on)::date AS month,
           i.currency_code,
           count(*) AS invoice_count,
           sum(i.total) AS revenue
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
      AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
      AND {STATUS_FILTER}
    GROUP BY 1, 2, 3
)
SELECT m.tenant_id, m.month, m.currency_code, m.invoice_count,
       round(m.revenue, 2) AS revenue,
       round(sum(m.revenue) OVER w, 2) AS running_revenue,
       round(m.revenue - lag(m.revenue) OVER w, 2) AS change_vs_previous_month
FROM monthly m
WINDOW w AS (PARTITION BY m.tenant_id, m.currency_code ORDER BY m.month)
ORDER BY m.tenant_id, m.currency_code, m.month
""")


def _overdue_kpi_scope() -> str:
    # The overdue KPIs are correlated subqueries on the tenant row. The faulty build lost the
    # correlation in a copy-paste: every tenant's overdue invoices are counted and summed, and on the
    # BYPASSRLS reporting role nothing stops it. Only numbers leak: no foreign row, no foreign id.
    if faults.on("report-aggregate-all-tenants"):
        return "i.status IN ('sent', 'overdue')"
    return "i.tenant_id = tn.id AND i.status IN ('sent', 'overdue')"


FINANCE_KPIS = Report(
    name="finance_kpis",
    title="Finance KPIs",
    description="One row per tenant: invoices issued, billed, collected, overdue count and amount, DSO.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to()),
    template="""
SELECT tn.id AS tenant_id,
       tn.name AS tenant_name,
       tn.currency_code,
       (SELECT count(*) FROM invoices i
         WHERE i.tenant_id = tn.id AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s) AS invoices_issued,
       (SELECT round(coalesce(sum(i.total), 0), 2) FROM invoices i
         WHERE i.tenant_id = tn.id AND i.status IN ('sent', 'paid', 'overdue')
           AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s) AS billed,
       (SELECT round(coalesce(sum(pm.amount), 0), 2) FROM payments pm
         WHERE pm.tenant_id = tn.id AND pm.paid_on BETWEEN %(date_from)s AND %(date_to)s) AS collected,
       (SELECT count(*) FROM invoices i
         WHERE {{overdue_scope}} AND i.due_on < %(date_to)s) AS overdue_invoices,
       (SELECT round(coalesce(sum(i.total - coalesce(paid.amount, 0)), 0), 2)
          FROM invoices i
          LEFT JOIN (SELECT pm.invoice_id, sum(pm.amount) AS amount FROM payments pm
                      WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[]) GROUP BY pm.invoice_id) paid
                 ON paid.invoice_id = i.id
         WHERE {{overdue_scope}} AND i.due_on < %(date_to)s) AS overdue_amount,
       (SELECT round(avg(pm.paid_on - i.issued_on), 1)
          FROM payments pm JOIN invoices i ON i.id = pm.invoice_id AND i.tenant_id = tn.id
         WHERE pm.tenant_id = tn.id AND pm.paid_on BETWEEN %(date_from)s AND %(date_to)s) AS days_sales_outstanding
FROM tenants tn
WHERE tn.id = ANY(%(tenant_ids)s::uuid[])
ORDER BY tn.name
""",
    fragments={"overdue_scope": _overdue_kpi_scope})


def _share_denominator_scope() -> str:
    # "Share of revenue" divides by the total of the visible tenants in that currency. The faulty
    # build computes the denominator CTE without the tenant predicate (it was written as a "grand
    # total"), so every customer's share moves with other tenants' invoices: numbers only leak.
    base = ("i.status IN ('sent', 'paid', 'overdue') "
            "AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s")
    if faults.on("report-share-denominator-all-tenants"):
        return base
    return f"i.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND {base}"


TOP_CUSTOMERS = Report(
    name="top_customers",
    title="Top customers by revenue",
    description="Customers ranked by invoiced revenue, with their share of the revenue in that currency.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.currency(), p.limit(20)),
    template="""
WITH revenue AS (
    SELECT i.tenant_id, i.customer_id, i.currency_code,
           count(*) AS invoice_count,
           sum(i.total) AS revenue
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
      AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
    GROUP BY 1, 2, 3
),
totals AS (
    SELECT i.currency_code, sum(i.total) AS total
    FROM invoices i
    WHERE {{denominator_scope}}
    GROUP BY i.currency_code
),
ranked AS (
    SELECT r.*, rank() OVER (PARTITION BY r.tenant_id ORDER BY r.revenue DESC) AS revenue_rank
    FROM revenue r
)
SELECT rk.tenant_id, rk.revenue_rank, c.id AS customer_id, c.name AS customer_name, c.segment,
       rk.currency_code, rk.invoice_count,
       round(rk.revenue, 2) AS revenue,
       round(100 * rk.revenue / nullif(t.total, 0), 2) AS share_pct
FROM ranked rk
JOIN customers c ON c.id = rk.customer_id AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
JOIN totals t ON t.currency_code = rk.currency_code
WHERE rk.revenue_rank <= %(limit)s
ORDER BY rk.tenant_id, rk.revenue_rank, c.name
""",
    fragments={"denominator_scope": _share_denominator_scope})


def _payment_branch_scope() -> str:
    # The payments branch of the ledger UNION was added after the invoices branch and only got the
    # date filter: on the BYPASSRLS reporting role it returns every tenant's payments.
    if faults.on("report-union-branch-unfiltered"):
        return ""
    return "pm.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND i.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND"


ACCOUNT_LEDGER = Report(
    name="account_ledger",
    title="Customer account ledger",
    description="Invoices (debits) and payments (credits) in one ledger, with each customer's running balance.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.currency(), p.limit(200)),
    template="""
WITH entries AS (
    SELECT i.tenant_id, i.customer_id, i.issued_on AS entry_date, 'invoice' AS kind,
           i.number AS reference, i.currency_code, i.total AS debit, 0::numeric AS credit
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
    UNION ALL
    SELECT pm.tenant_id, i.customer_id, pm.paid_on, 'payment', pm.reference, pm.currency_code,
           0::numeric, pm.amount
    FROM payments pm
    JOIN invoices i ON i.id = pm.invoice_id
    WHERE {{payment_scope}} pm.paid_on BETWEEN %(date_from)s AND %(date_to)s
)
SELECT e.tenant_id, e.entry_date, e.kind, e.reference, e.customer_id, c.name AS customer_name,
       e.currency_code,
       round(e.debit, 2) AS debit,
       round(e.credit, 2) AS credit,
       round(sum(e.debit - e.credit) OVER (PARTITION BY e.tenant_id, e.customer_id, e.currency_code
                                           ORDER BY e.entry_date, e.kind, e.reference), 2) AS balance
FROM entries e
LEFT JOIN customers c ON c.id = e.customer_id AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
WHERE (%(currency)s::text IS NULL OR e.currency_code = %(currency)s::text)
ORDER BY e.tenant_id, e.entry_date, e.kind, e.reference
LIMIT %(limit)s
""",
    fragments={"payment_scope": _payment_branch_scope})


AR_AGEING = Report(
    name="ar_ageing",
    title="Accounts receivable ageing",
    description="Open balances as of a date, in ageing buckets (current, 1-30, 31-60, 61-90, 90+ days past due), "
                "grouped by customer, segment or country.",
    roles=ADMINS,
    params=(p.as_of(), p.currency(),
            p.enum("group_by", ("customer", "segment", "country"), "customer", "How balances are grouped."),
            p.Param("min_balance", "int", default=0, minimum=0, maximum=1_000_000,
                    description="Hide groups whose open balance is below this amount."),
            p.limit(100)),
    template="""
-- Receivables on the as-of day: an invoice is open when it has been issued, is neither a draft nor
-- void, and its payments up to that day do not cover its total.
WITH issued AS (
    SELECT i.tenant_id,
           i.id AS invoice_id,
           i.customer_id,
           i.number,
           i.currency_code,
           i.issued_on,
           i.due_on,
           i.total
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'overdue', 'paid')
      AND i.issued_on <= %(as_of)s
      AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
),
paid_to_date AS (
    -- Payments received up to the as-of day, per invoice.
    SELECT pm.invoice_id,
           sum(pm.amount) AS paid,
           max(pm.paid_on) AS last_paid_on
    FROM payments pm
    WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND pm.paid_on <= %(as_of)s
    GROUP BY pm.invoice_id
),
open_items AS (
    SELECT s.tenant_id,
           s.invoice_id,
           s.customer_id,
           s.currency_code,
           s.due_on,
           s.total - coalesce(ptd.paid, 0) AS balance,
           greatest(%(as_of)s::date - s.due_on, 0) AS days_past_due,
           ptd.last_paid_on
    FROM issued s
    LEFT JOIN paid_to_date ptd ON ptd.invoice_id = s.invoice_id
    WHERE s.total - coalesce(ptd.paid, 0) > 0
),
bucketed AS (
    SELECT o.*,
           CASE
               WHEN o.days_past_due = 0 THEN 'current'
               WHEN o.days_past_due <= 30 THEN '1_30'
               WHEN o.days_past_due <= 60 THEN '31_60'
               WHEN o.days_past_due <= 90 THEN '61_90'
               ELSE '90_plus'
           END AS bucket
    FROM open_items o
),
labelled AS (
    -- The grouping key and its label, from the customer dimension.
    SELECT b.*,
           CASE %(group_by)s::text
               WHEN 'customer' THEN c.id::text
               WHEN 'segment' THEN c.segment
               ELSE c.country_code::text
           END AS group_key,
           CASE %(group_by)s::text
               WHEN 'customer' THEN c.name
               WHEN 'segment' THEN initcap(replace(c.segment, '_', ' '))
               ELSE coalesce(co.name, c.country_code::text)
           END AS group_label
    FROM bucketed b
    JOIN customers c
      ON c.id = b.customer_id
     AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
    LEFT JOIN countries co ON co.code = c.country_code
),
grouped AS (
    SELECT l.tenant_id,
           l.group_key,
           l.group_label,
           l.currency_code,
           count(*) AS open_invoices,
           sum(l.balance) AS open_balance,
           sum(l.balance) FILTER (WHERE l.bucket = 'current') AS current,
           sum(l.balance) FILTER (WHERE l.bucket = '1_30') AS days_1_30,
           sum(l.balance) FILTER (WHERE l.bucket = '31_60') AS days_31_60,
           sum(l.balance) FILTER (WHERE l.bucket = '61_90') AS days_61_90,
           sum(l.balance) FILTER (WHERE l.bucket = '90_plus') AS days_90_plus,
           -- Balance-weighted average age: a large old invoice matters more than a small one.
           sum(l.balance * l.days_past_due) / nullif(sum(l.balance), 0) AS weighted_days_past_due,
           max(l.last_paid_on) AS last_payment_on
    FROM labelled l
    GROUP BY l.tenant_id, l.group_key, l.group_label, l.currency_code
),
tenant_totals AS (
    SELECT g.tenant_id, g.currency_code, sum(g.open_balance) AS tenant_open_balance
    FROM grouped g
    GROUP BY g.tenant_id, g.currency_code
)
SELECT g.tenant_id,
       g.group_key,
       g.group_label,
       g.currency_code,
       g.open_invoices,
       round(g.open_balance, 2) AS open_balance,
       round(coalesce(g.current, 0), 2) AS current,
       round(coalesce(g.days_1_30, 0), 2) AS days_1_30,
       round(coalesce(g.days_31_60, 0), 2) AS days_31_60,
       round(coalesce(g.days_61_90, 0), 2) AS days_61_90,
       round(coalesce(g.days_90_plus, 0), 2) AS days_90_plus,
       round(g.weighted_days_past_due, 1) AS weighted_days_past_due,
       g.last_payment_on,
       round(100 * g.open_balance / nullif(t.tenant_open_balance, 0), 2) AS share_of_receivables_pct,
       rank() OVER (PARTITION BY g.tenant_id, g.currency_code ORDER BY g.open_balance DESC) AS exposure_rank
FROM grouped g
JOIN tenant_totals t
  ON t.tenant_id = g.tenant_id
 AND t.currency_code = g.currency_code
WHERE g.open_balance >= %(min_balance)s
ORDER BY g.tenant_id, g.currency_code, exposure_rank, g.group_label
LIMIT %(limit)s
""")


REVENUE_RECOGNITION = Report(
    name="revenue_recognition",
    title="Revenue recognition schedule",
    description="Billed versus recognised revenue per month: an invoice tied to a project is recognised evenly "
                "over the project's months, any other invoice in its issue month; the difference is deferred.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.currency(),
            p.flag("include_drafts", False, "Also schedule draft invoices (forecast).")),
    template="""
-- Straight-line recognition over the project's delivery period (ASC 606 "over time" for services).
WITH billable AS (
    SELECT i.tenant_id,
           i.id AS invoice_id,
           i.project_id,
           i.currency_code,
           i.issued_on,
           i.total
    FROM invoices i
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND (i.status IN ('sent', 'paid', 'overdue') OR (%(include_drafts)s AND i.status = 'draft'))
      AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
),
delivery_period AS (
    -- A project without an end date is recognised over 90 days from its start.
    SELECT pr.id AS project_id,
           date_trunc('month', pr.starts_on)::date AS first_month,
           date_trunc('month', coalesce(pr.ends_on, pr.starts_on + 90))::date AS last_month
    FROM projects pr
    WHERE pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
),
spans AS (
    -- An invoice issued after its project ended is recognised at once, in its issue month.
    SELECT b.tenant_id,
           b.invoice_id,
           b.currency_code,
           b.total,
           date_trunc('month', b.issued_on)::date AS billed_month,
           CASE WHEN dp.project_id IS NULL OR dp.last_month < date_trunc('month', b.issued_on)
                THEN date_trunc('month', b.issued_on)::date
                ELSE least(dp.first_month, date_trunc('month', b.issued_on)::date)
           END AS first_month,
           CASE WHEN dp.project_id IS NULL OR dp.last_month < date_trunc('month', b.issued_on)
                THEN date_trunc('month', b.issued_on)::date
                ELSE dp.last_month
           END AS last_month
    FROM billable b
    LEFT JOIN delivery_period dp ON dp.project_id = b.project_id
),
schedule AS (
    SELECT s.tenant_id,
           s.invoice_id,
           s.currency_code,
           gs.month::date AS month,
           s.total / (
               (extract(year FROM age(s.last_month, s.first_month)) * 12
                + extract(month FROM age(s.last_month, s.first_month)) + 1)::numeric
           ) AS recognised
    FROM spans s
    CROSS JOIN LATERAL generate_series(s.first_month, s.last_month, interval '1 month') AS gs(month)
),
recognised_monthly AS (
    SELECT sc.tenant_id, sc.currency_code, sc.month, sum(sc.recognised) AS recognised
    FROM schedule sc
    GROUP BY sc.tenant_id, sc.currency_code, sc.month
),
billed_monthly AS (
    SELECT s.tenant_id, s.currency_code, s.billed_month AS month,
           sum(s.total) AS billed, count(*) AS invoices
    FROM spans s
    GROUP BY s.tenant_id, s.currency_code, s.billed_month
),
months AS (
    SELECT tenant_id, currency_code, month FROM recognised_monthly
    UNION
    SELECT tenant_id, currency_code, month FROM billed_monthly
),
combined AS (
    SELECT m.tenant_id,
           m.currency_code,
           m.month,
           coalesce(bm.invoices, 0) AS invoices,
           coalesce(bm.billed, 0) AS billed,
           coalesce(rm.recognised, 0) AS recognised
    FROM months m
    LEFT JOIN billed_monthly bm
           ON bm.tenant_id = m.tenant_id AND bm.currency_code = m.currency_code AND bm.month = m.month
    LEFT JOIN recognised_monthly rm
           ON rm.tenant_id = m.tenant_id AND rm.currency_code = m.currency_code AND rm.month = m.month
),
cumulative AS (
    -- Cumulated from the first month ever, so the deferred balance is right at the window's start.
    SELECT c.*,
           sum(c.billed) OVER w AS billed_to_date,
           sum(c.recognised) OVER w AS recognised_to_date
    FROM combined c
    WINDOW w AS (PARTITION BY c.tenant_id, c.currency_code ORDER BY c.month)
)
SELECT cu.tenant_id,
       cu.month,
       cu.currency_code,
       cu.invoices,
       round(cu.billed, 2) AS billed,
       round(cu.recognised, 2) AS recognised,
       round(cu.billed_to_date, 2) AS billed_to_date,
       round(cu.recognised_to_date, 2) AS recognised_to_date,
       round(cu.billed_to_date - cu.recognised_to_date, 2) AS deferred_revenue,
       round(cu.recognised - lag(cu.recognised) OVER (PARTITION BY cu.tenant_id, cu.currency_code
                                                     ORDER BY cu.month), 2) AS recognised_change
FROM cumulative cu
WHERE cu.month BETWEEN date_trunc('month', %(date_from)s::date) AND %(date_to)s
ORDER BY cu.tenant_id, cu.currency_code, cu.month
""")


PAYMENT_BEHAVIOUR = Report(
    name="payment_behaviour",
    title="Payment behaviour by customer",
    description="How fast each customer pays: median and average days from issue to payment, late share.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(),
            p.enum("method", ("any", "card", "transfer", "direct_debit", "cash"), "any", "Payment method."),
            p.limit(50)),
    template="""
SELECT x.tenant_id, x.customer_id, x.customer_name, x.payments,
       x.median_days_to_pay, x.avg_days_to_pay, x.late_payments,
       round(100.0 * x.late_payments / x.payments, 1) AS late_pct,
       dense_rank() OVER (PARTITION BY x.tenant_id ORDER BY x.avg_days_to_pay DESC) AS slowest_rank
FROM (
    SELECT d.tenant_id, d.customer_id, c.name AS customer_name,
           count(*) AS payments,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d.days_to_pay) AS median_days_to_pay,
           round(avg(d.days_to_pay), 1) AS avg_days_to_pay,
           count(*) FILTER (WHERE d.paid_on > d.due_on) AS late_payments
    FROM (
        SELECT pm.tenant_id, i.customer_id, pm.paid_on, i.due_on, pm.paid_on - i.issued_on AS days_to_pay
        FROM payments pm
        JOIN invoices i ON i.id = pm.invoice_id AND i.tenant_id = ANY(%(tenant_ids)s::uuid[])
        WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[])
          AND pm.paid_on BETWEEN %(date_from)s AND %(date_to)s
          AND (%(method)s::text = 'any' OR pm.method = %(method)s::text)
    ) d
    JOIN customers c ON c.id = d.customer_id AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY d.tenant_id, d.customer_id, c.name
) x
ORDER BY x.tenant_id, slowest_rank, x.customer_name
LIMIT %(limit)s
""")


OVERDUE_INVOICES = Report(
    name="overdue_invoices",
    title="Overdue invoices",
    description="Unpaid invoices past their due date as of a day, oldest first, with the customer and project.",
    roles=ADMINS,
    params=(p.as_of(), p.Param("min_days_overdue", "int", default=0, minimum=0, maximum=730,
                               description="Only invoices at least this many days overdue."),
            p.currency(), p.limit(100)),
    template="""
SELECT i.tenant_id, i.id AS invoice_id, i.number, i.status, i.currency_code, i.issued_on, i.due_on,
       %(as_of)s::date - i.due_on AS days_overdue,
       round(i.total, 2) AS total,
       round(i.total - coalesce(paid.amount, 0), 2) AS outstanding,
       c.name AS customer_name, c.email AS customer_email,
       pr.code AS project_code
FROM invoices i
JOIN customers c ON c.id = i.customer_id AND c.tenant_id = ANY(%(tenant_ids)s::uuid[])
LEFT JOIN projects pr ON pr.id = i.project_id AND pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
LEFT JOIN LATERAL (
    SELECT sum(pm.amount) AS amount FROM payments pm
    WHERE pm.invoice_id = i.id AND pm.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND pm.paid_on <= %(as_of)s
) paid ON true
WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
  AND i.status IN ('sent', 'overdue')
  AND i.due_on < %(as_of)s
  AND %(as_of)s::date - i.due_on >= %(min_days_overdue)s
  AND i.total - coalesce(paid.amount, 0) > 0
  AND (%(currency)s::text IS NULL OR i.currency_code = %(currency)s::text)
ORDER BY days_overdue DESC, i.number
LIMIT %(limit)s
""")


REPORTS = (REVENUE_BY_MONTH, REVENUE_RECOGNITION, AR_AGEING, ACCOUNT_LEDGER, TOP_CUSTOMERS, FINANCE_KPIS,
           PAYMENT_BEHAVIOUR, OVERDUE_INVOICES)
