"""One :class:`TenantRepository` per tenant table: the columns the API may read, write, sort, search."""

from phoenix.repository.base import TenantRepository

CUSTOMERS = TenantRepository(
    "customers", ["id", "tenant_id", "name", "email", "phone", "country_code", "vat_number", "segment",
                  "created_at"],
    writable=["name", "email", "phone", "country_code", "vat_number", "segment"],
    sortable=["name", "email", "segment", "country_code", "created_at"],
    searchable=["name", "email", "vat_number"], default_sort="name")

PROJECTS = TenantRepository(
    "projects", ["id", "tenant_id", "customer_id", "owner_id", "code", "name", "status", "budget",
                 "currency_code", "starts_on", "ends_on", "created_at"],
    writable=["customer_id", "owner_id", "code", "name", "status", "budget", "currency_code", "starts_on",
              "ends_on"],
    sortable=["name", "code", "status", "budget", "starts_on", "created_at"],
    searchable=["name", "code"], default_sort="created_at")

TASKS = TenantRepository(
    "tasks", ["id", "tenant_id", "project_id", "assignee_id", "title", "description", "status", "priority",
              "estimate_hours", "due_on", "created_at"],
    writable=["project_id", "assignee_id", "title", "description", "status", "priority", "estimate_hours",
              "due_on"],
    sortable=["title", "status", "priority", "due_on", "created_at", "estimate_hours"],
    searchable=["title", "description"], default_sort="created_at")

INVOICES = TenantRepository(
    "invoices", ["id", "tenant_id", "customer_id", "project_id", "number", "status", "currency_code",
                 "issued_on", "due_on", "total", "created_at"],
    writable=["customer_id", "project_id", "number", "status", "currency_code", "issued_on", "due_on",
              "total"],
    sortable=["number", "status", "issued_on", "due_on", "total", "created_at"],
    searchable=["number"], default_sort="issued_on")

INVOICE_LINES = TenantRepository(
    "invoice_lines", ["id", "tenant_id", "invoice_id", "description", "quantity", "unit_price", "amount"],
    writable=["invoice_id", "description", "quantity", "unit_price", "amount"],
    sortable=["description", "amount"], default_sort="description")

TIME_ENTRIES = TenantRepository(
    "time_entries", ["id", "tenant_id", "user_id", "project_id", "task_id", "spent_on", "hours", "billable",
                     "note"],
    writable=["user_id", "project_id", "task_id", "spent_on", "hours", "billable", "note"],
    sortable=["spent_on", "hours"], searchable=["note"], default_sort="spent_on")

DOCUMENTS = TenantRepository(
    "documents", ["id", "tenant_id", "project_id", "created_by", "title", "filename", "content_type",
                  "size_bytes", "created_at"],
    sortable=["title", "filename", "size_bytes", "created_at"], searchable=["title", "filename"],
    default_sort="created_at")

TEAMS = TenantRepository("teams", ["id", "tenant_id", "name", "description", "created_at"],
                         sortable=["name", "created_at"], searchable=["name", "description"],
                         default_sort="name")

USERS = TenantRepository(  # never password_hash
    "users", ["id", "tenant_id", "team_id", "email", "full_name", "role", "active", "created_at"],
    sortable=["full_name", "email", "role", "created_at"], searchable=["full_name", "email"],
    default_sort="full_name")

TAGS = TenantRepository("tags", ["id", "tenant_id", "name", "color"], writable=["name", "color"],
                        sortable=["name"], searchable=["name"], default_sort="name")

COMMENTS = TenantRepository("comments", ["id", "tenant_id", "task_id", "author_id", "body", "created_at"],
                            writable=["task_id", "author_id", "body"], sortable=["created_at"],
                            default_sort="created_at")

NOTIFICATIONS = TenantRepository(
    "notifications", ["id", "tenant_id", "user_id", "kind", "message", "read_at", "created_at"],
    writable=["read_at"], sortable=["created_at", "kind"], default_sort="created_at")

AUDIT_EVENTS = TenantRepository(
    "audit_events", ["id", "tenant_id", "actor_id", "action", "entity", "entity_id", "summary", "created_at"],
    sortable=["created_at", "action"], searchable=["summary"], default_sort="created_at")

DASHBOARDS = TenantRepository("dashboards", ["id", "tenant_id", "owner_id", "name", "is_shared", "created_at"],
                              writable=["owner_id", "name", "is_shared"], sortable=["name", "created_at"],
                              searchable=["name"], default_sort="name")

WIDGETS = TenantRepository("widgets", ["id", "tenant_id", "dashboard_id", "kind", "title", "config",
                                       "position"],
                           writable=["dashboard_id", "kind", "title", "config", "position"],
                           sortable=["position", "title"], default_sort="position")
