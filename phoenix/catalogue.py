"""Every planted fault, declared in one place so that ``python -m phoenix faults`` and README agree.

Each description says what the bug is and why RLS (enabled and forced) does not catch it.
"""

from phoenix.faults import register

D = "/api/dashboard"

# --- dashboard API faults (phoenix/repository, phoenix/deps.py, phoenix/db.py, phoenix/cache.py, install.py)
register("list-unfiltered", "list-unfiltered", [f"GET {D}/customers"],
         "The customer list runs on the reporting connection (BYPASSRLS, to spare the primary) and its "
         "WHERE is built without the tenant set: RLS does not apply to that role, so every tenant's "
         "customers are listed.")
register("idor-get", "idor", [f"GET {D}/invoices/{{invoice_id}}"],
         "The invoice detail reads the row by primary key only from the reporting connection "
         "(BYPASSRLS): any tenant's invoice id returns that invoice.")
register("nested-child-unchecked", "nested", [f"GET {D}/projects/{{project_id}}/tasks/{{task_id}}"],
         "The parent project is checked, then the task is loaded by id alone through the shared "
         "loader on the reporting connection (BYPASSRLS): a foreign task shows under my project.")
register("search-cross-tenant", "search", [f"GET {D}/search"],
         "Global search runs on the reporting connection (BYPASSRLS) and its UNION was written "
         "without tenant predicates (\"RLS covers it\"): ILIKE matches every tenant's rows.")
register("corporate-scope-too-broad", "scope", [f"GET {D}/customers", f"GET {D}/projects",
                                                f"GET {D}/kpis/summary"],
         "Install-time: phoenix_client_tenants() (SECURITY DEFINER, so RLS does not apply) correlates its "
         "subquery with the outer row (home.id = t.id), so a corporate admin's token gets every tenant of "
         "every client; the context and the predicates then faithfully include them.")
register("pooled-context-leak", "pooled-context", [f"GET {D}/activity"],
         "The tenant context is set at session level (set_config(..., false)) and the pool no longer "
         "resets it, while the activity feed relies on RLS alone without setting a context: it inherits "
         "the previous request's tenant on that pooled connection.")
register("cache-key-without-tenant", "cache", [f"GET {D}/kpis/summary",
                                               f"GET {D}/projects/{{project_id}}/summary"],
         "The KPI response cache keys on path and query only: the first tenant to ask fills the entry "
         "that every other tenant is served; the database (and RLS) is never asked.")
register("tenant-header-override", "context-override", [f"GET {D}/customers", f"GET {D}/projects",
                                                         f"GET {D}/invoices", f"GET {D}/tasks"],
         "The X-Tenant-ID switcher (meant for corporate admins) trusts the header without a membership "
         "check: the transaction's tenant context is set from it, so RLS enforces the attacker's choice.")
register("mass-assignment-tenant", "mass-assignment", [f"POST {D}/customers"],
         "The customer create body accepts tenant_id (legacy import) and opens the transaction in that "
         "tenant's context, so RLS WITH CHECK accepts a row written into another tenant.")
register("update-delete-unchecked", "write-unchecked", [f"POST {D}/tasks/bulk-update"],
         "Bulk status changes run on the job worker's connection (phoenix_worker, BYPASSRLS) and the "
         "UPDATE matches on id alone: other tenants' tasks are changed and returned.")
register("export-unfiltered", "export", [f"GET {D}/invoices/export"],
         "The invoice CSV export runs on the reporting connection (BYPASSRLS) with the list's filters "
         "but no tenant predicate: the file holds every tenant's invoices.")
register("error-echoes-foreign", "error-echo", [f"POST {D}/tags"],
         "A friendly duplicate-name check looks tags up across all tenants on the reporting connection "
         "(BYPASSRLS) and names the clash (id, tenant, color) in the 409 message.")
register("pagination-total-cross-tenant", "count", [f"GET {D}/projects"],
         "The project list's total is counted on the reporting connection (BYPASSRLS) without the "
         "tenant predicate: items are right, the total counts every tenant's projects.")
register("batch-get-first-only", "batch", [f"GET {D}/projects/batch"],
         "The batch get authorises the first id only, then bulk-loads all ids with the shared loader on "
         "the reporting connection (BYPASSRLS): later ids may be any tenant's projects.")
register("rls-not-forced", "rls-not-forced", [f"GET {D}/documents"],
         "Install-time: FORCE ROW LEVEL SECURITY is left off on documents, and the documents module "
         "still uses the migration DSN (the table owner) with a list query lacking the tenant predicate; "
         "the owner is exempt from unforced RLS, so every tenant's documents are listed.")

# --- report faults (phoenix/reporting) are appended below this line by the reporting engine.

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
