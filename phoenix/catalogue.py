"""Every planted fault, declared in one place so that ``python -m phoenix faults`` and README agree."""

from phoenix.faults import register

# Filled in with the faults themselves; see phoenix/faults.py for the format.

# --- report faults (phoenix/reporting/catalogue/): reports run on the BYPASSRLS reporting role (ADR-007),
# so a report's own tenant predicates are the only boundary and a missing one really leaks.
register("report-join-missing-tenant", "report-join",
         ("report:tag_usage", "POST /api/reports/{name}"),
         "tag_usage re-joins tags by lower-cased name without the tenant condition: other tenants' "
         "tagged tasks (ids, titles) and counts appear.")
register("report-aggregate-all-tenants", "report-aggregate",
         ("report:finance_kpis", "POST /api/reports/{name}"),
         "finance_kpis' overdue subqueries lost their correlation with the tenant: overdue count and "
         "amount cover every tenant (numbers only).")
register("report-union-branch-unfiltered", "report-union",
         ("report:account_ledger", "POST /api/reports/{name}"),
         "account_ledger's payments UNION branch filters on the date only: every tenant's payments "
         "appear in the ledger.")
register("report-share-denominator-all-tenants", "report-aggregate",
         ("report:top_customers", "POST /api/reports/{name}"),
         "top_customers' share-of-revenue denominator is summed over every tenant's invoices: the "
         "percentages move with other tenants' revenue (numbers only).")
