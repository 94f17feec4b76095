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

register("system-notices-all-tenants", "filter-branch", [f"GET {D}/notifications"],
         "One value of the notification list's kind filter takes another query: kind=system still reads "
         "the single-tenant era's platform announcements on the reporting connection (BYPASSRLS), filtered "
         "on kind and read state only, so every tenant's system notifications are listed; the other kinds "
         "go through the repository and are right. RLS does not apply to that role.")
register("time-entries-later-pages-unfiltered", "later-page", [f"GET {D}/time-entries"],
         "The first page of time entries is right; every later page (offset > 0, e.g. from next_cursor) "
         "is read from the reporting connection (BYPASSRLS, to spare the primary on deep OFFSET scans) "
         "with a WHERE built without the tenant set, so pages 2+ and their total cover every tenant's "
         "time entries. RLS does not apply to that role.")
register("export-total-header-all-tenants", "header-cross-tenant", [f"GET {D}/customers/export"],
         "The customer CSV is right, but its X-Total-Count header is counted on the reporting connection "
         "(BYPASSRLS, count(*) was slow on the primary) with the export's filters and no tenant predicate: "
         "the header counts every tenant's customers. RLS does not apply to that role.")
register("document-forbidden-reveals-existence", "existence-status", [f"GET {D}/documents/{{document_id}}"],
         "The document detail loads the row by id alone on the reporting connection (BYPASSRLS) and only "
         "then compares its tenant: another tenant's document answers 403 while an unknown id answers 404, "
         "so the status reveals which ids exist elsewhere. RLS does not apply to that role, and a status "
         "code is no row for it to hide.")
register("project-code-unique-globally", "unique-across-tenants", [f"POST {D}/projects"],
         "Install-time: the single-tenant era's unique index on projects(code) survived the migration that "
         "added UNIQUE (tenant_id, code), so creating a project answers 409 when another tenant already "
         "uses that code. Unique indexes see every row of the table: RLS policies do not apply to them.")
register("invoice-project-reference-unchecked", "foreign-reference", [f"PATCH {D}/invoices/{{invoice_id}}"],
         "The invoice update no longer checks project_id through the tenant-scoped repository and relies on "
         "the foreign key to reject unknown projects: another tenant's project id is accepted (200) and my "
         "invoice now points into that tenant. FK checks always bypass RLS, so neither layer refuses it.")
register("seat-count-all-tenants", "few-rows-count", [f"GET {D}/users"],
         "The user list's seats_used badge reuses the nightly licence meter's query on the job worker's "
         "connection (phoenix_worker, BYPASSRLS) without its tenant predicate: it counts every tenant's "
         "active users. Only a small number moves; no foreign row appears, and RLS does not apply to that "
         "role.")

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
register("report-idle-assignees-unfiltered", "report-branch",
         ("report:task_status_breakdown", "POST /api/reports/{name}"),
         "task_status_breakdown with group_by=assignee adds a UNION branch listing idle people; it drives "
         "from users without the tenant condition (only its NOT EXISTS subquery is scoped): every tenant's "
         "people (ids, names) appear, and the BYPASSRLS reporting role lets them through. The default "
         "group_by=project never takes that branch.")
