"""Who may call what: ``ROLE_RULES["METHOD /path"] -> roles allowed`` (everything else is 403).

``user`` reads and does everyday work; ``admin`` also manages (customers, projects, invoices, deletes,
bulk changes, exports); ``corporate_admin`` reads every subsidiary of its client and writes nothing.
The API enforces exactly this table (``phoenix.deps.authorize``); the harness reads it too.
"""

from __future__ import annotations

P = "/api/dashboard"
ALL = ("user", "admin", "corporate_admin")
READERS = ALL
MANAGERS = ("admin",)
WORKERS = ("user", "admin")
EXPORTERS = ("admin", "corporate_admin")

_READS = [
    "/customers", "/customers/{customer_id}",
    "/projects", "/projects/batch", "/projects/{project_id}", "/projects/{project_id}/summary",
    "/projects/{project_id}/tasks", "/projects/{project_id}/tasks/{task_id}", "/tasks",
    "/tasks/{task_id}/comments", "/invoices", "/invoices/{invoice_id}", "/invoices/{invoice_id}/lines",
    "/time-entries", "/documents", "/documents/{document_id}", "/teams", "/users", "/tags",
    "/notifications", "/dashboards", "/dashboards/{dashboard_id}/widgets", "/kpis/summary", "/activity",
    "/search",
]
_EXPORTS = ["/customers/export", "/projects/export", "/invoices/export"]
_WORK = [
    "POST /projects/{project_id}/tasks", "PATCH /tasks/{task_id}", "POST /tasks/{task_id}/comments",
    "POST /time-entries", "DELETE /time-entries/{time_entry_id}", "POST /notifications/{notification_id}/read",
    "POST /dashboards", "POST /dashboards/{dashboard_id}/widgets",
]
_MANAGE = [
    "POST /customers", "PATCH /customers/{customer_id}", "DELETE /customers/{customer_id}",
    "POST /projects", "PATCH /projects/{project_id}", "DELETE /projects/{project_id}",
    "DELETE /tasks/{task_id}", "POST /tasks/bulk-update", "POST /invoices", "PATCH /invoices/{invoice_id}",
    "POST /tags",
]

ROLE_RULES: dict[str, tuple[str, ...]] = {
    **{f"GET {P}{path}": READERS for path in _READS},
    **{f"GET {P}{path}": EXPORTERS for path in _EXPORTS},
    **{f"{op.split()[0]} {P}{op.split()[1]}": WORKERS for op in _WORK},
    **{f"{op.split()[0]} {P}{op.split()[1]}": MANAGERS for op in _MANAGE},
}


def allowed(role: str) -> list[str]:
    """The operations ``role`` may call, sorted."""
    return sorted(op for op, roles in ROLE_RULES.items() if role in roles)
