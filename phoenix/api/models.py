"""Request and response models of the dashboard API (responses always carry ``id`` and ``tenant_id``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from phoenix.api.common import ListOut, Strict, Text

Money = Annotated[float, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)]
Segment = Literal["smb", "mid_market", "enterprise"]
ProjectStatus = Literal["planned", "active", "on_hold", "done"]
TaskStatus = Literal["todo", "in_progress", "review", "done"]
InvoiceStatus = Literal["draft", "sent", "paid", "overdue", "void"]
Currency = Literal["EUR", "USD", "GBP", "CHF", "JPY"]
Country = Literal["DE", "FR", "GB", "US", "CA", "JP", "CH", "AU"]
NotificationKind = Literal["mention", "assignment", "invoice", "system"]
Email = Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]
Day = dt.date


class Row(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID


# ---------------------------------------------------------------- customers
class CustomerOut(Row):
    name: str
    email: str
    phone: str
    country_code: str
    vat_number: str
    segment: str
    created_at: dt.datetime


class CustomerIn(Strict):
    name: Text(200)
    email: Email
    phone: Text(40, 0) = ""
    country_code: Country
    vat_number: Text(40, 0) = ""
    segment: Segment = "smb"


class CustomerInWithTenant(CustomerIn):
    """The legacy import body (planted fault ``mass-assignment-tenant`` only)."""

    tenant_id: uuid.UUID | None = None


class CustomerPatch(Strict):
    name: Text(200) | None = None
    email: Email | None = None
    phone: Text(40, 0) | None = None
    country_code: Country | None = None
    vat_number: Text(40, 0) | None = None
    segment: Segment | None = None


# ---------------------------------------------------------------- projects
class ProjectOut(Row):
    customer_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    code: str
    name: str
    status: str
    budget: float
    currency_code: str
    starts_on: dt.date
    ends_on: dt.date | None
    created_at: dt.datetime


class ProjectIn(Strict):
    code: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
    name: Text(200)
    customer_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = Field(None, description="A user (users.id) of your tenant")
    status: ProjectStatus = "planned"
    budget: Money = 0
    currency_code: Currency = "EUR"
    starts_on: Day
    ends_on: Day | None = None



class ProjectPatch(Strict):
    name: Text(200) | None = None
    customer_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = Field(None, description="A user (users.id) of your tenant")
    status: ProjectStatus | None = None
    budget: Money | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None


class ProjectSummaryOut(Row):
    code: str
    name: str
    budget: float
    currency_code: str
    tasks_total: int
    tasks_open: int
    hours_logged: float
    billable_hours: float
    invoiced: float
    paid: float
    budget_used: float


# ---------------------------------------------------------------- tasks & comments
class TaskOut(Row):
    project_id: uuid.UUID
    assignee_id: uuid.UUID | None
    title: str
    description: str
    status: str
    priority: int
    estimate_hours: float
    due_on: dt.date | None
    created_at: dt.datetime


class TaskIn(Strict):
    title: Text(200)
    description: Text(2000, 0) = ""
    assignee_id: uuid.UUID | None = Field(None, description="A user (users.id) of your tenant")
    status: TaskStatus = "todo"
    priority: Annotated[int, Field(ge=1, le=4)] = 2
    estimate_hours: Annotated[float, Field(ge=0, le=999, allow_inf_nan=False)] = 0
    due_on: Day | None = None


class TaskPatch(Strict):
    title: Text(200) | None = None
    description: Text(2000, 0) | None = None
    assignee_id: uuid.UUID | None = Field(None, description="A user (users.id) of your tenant")
    status: TaskStatus | None = None
    priority: Annotated[int, Field(ge=1, le=4)] | None = None
    estimate_hours: Annotated[float, Field(ge=0, le=999, allow_inf_nan=False)] | None = None
    due_on: Day | None = None


class BulkUpdateIn(Strict):
    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100, description="Task ids (tasks.id)")]
    status: TaskStatus


class BulkUpdateOut(BaseModel):
    updated: int
    items: list[TaskOut]


class CommentOut(Row):
    task_id: uuid.UUID
    author_id: uuid.UUID | None
    body: str
    created_at: dt.datetime


class CommentIn(Strict):
    body: Text(4000)


# ---------------------------------------------------------------- billing
class InvoiceOut(Row):
    customer_id: uuid.UUID
    project_id: uuid.UUID | None
    number: str
    status: str
    currency_code: str
    issued_on: dt.date
    due_on: dt.date
    total: float
    created_at: dt.datetime


class InvoiceLineIn(Strict):
    description: Text(500)
    quantity: Annotated[float, Field(gt=0, le=9_999, allow_inf_nan=False)]
    unit_price: Annotated[float, Field(ge=0, le=99_999, allow_inf_nan=False)]


class InvoiceIn(Strict):
    customer_id: uuid.UUID
    project_id: uuid.UUID | None = None
    number: Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
    status: InvoiceStatus = "draft"
    currency_code: Currency = "EUR"
    issued_on: Day
    due_on: Day
    lines: Annotated[list[InvoiceLineIn], Field(max_length=20)] = []



class InvoicePatch(Strict):
    status: InvoiceStatus | None = None
    project_id: uuid.UUID | None = None
    due_on: Day | None = None


class InvoiceLineOut(Row):
    invoice_id: uuid.UUID
    description: str
    quantity: float
    unit_price: float
    amount: float


# ---------------------------------------------------------------- time, documents, people, tags
class TimeEntryOut(Row):
    user_id: uuid.UUID
    project_id: uuid.UUID
    task_id: uuid.UUID | None
    spent_on: dt.date
    hours: float
    billable: bool
    note: str


class TimeEntryIn(Strict):
    project_id: uuid.UUID
    task_id: uuid.UUID | None = None
    spent_on: Day
    hours: Annotated[float, Field(ge=0.25, le=24, multiple_of=0.25)]
    billable: bool = True
    note: Text(500, 0) = ""


class DocumentOut(Row):
    project_id: uuid.UUID | None
    created_by: uuid.UUID | None
    title: str
    filename: str
    content_type: str
    size_bytes: int
    created_at: dt.datetime


class TeamOut(Row):
    name: str
    description: str
    created_at: dt.datetime


class UserOut(Row):
    team_id: uuid.UUID | None
    email: str
    full_name: str
    role: str
    active: bool
    created_at: dt.datetime


class UserListOut(ListOut[UserOut]):
    seats_used: int = Field(description="Licence seats in use: active users of your tenants, whatever the filters")


class TagOut(Row):
    name: str
    color: str


class TagIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    color: Annotated[str, Field(pattern=r"^#[0-9a-f]{6}$")] = "#888888"


# ---------------------------------------------------------------- notifications, dashboards, feed
class NotificationOut(Row):
    user_id: uuid.UUID
    kind: str
    message: str
    read_at: dt.datetime | None
    created_at: dt.datetime


class DashboardOut(Row):
    owner_id: uuid.UUID | None
    name: str
    is_shared: bool
    created_at: dt.datetime


class DashboardIn(Strict):
    name: Text(200)
    is_shared: bool = False


class WidgetOut(Row):
    dashboard_id: uuid.UUID
    kind: str
    title: str
    config: str
    position: int


class WidgetIn(Strict):
    kind: Literal["kpi", "chart", "table", "feed"]
    title: Text(200)
    config: Text(2000, 0) = "{}"
    position: Annotated[int, Field(ge=0, le=100)] = 0


class ActivityOut(Row):
    actor_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: uuid.UUID | None
    summary: str
    created_at: dt.datetime


class SearchHit(Row):
    type: Literal["project", "task", "customer", "invoice"]
    title: str
    subtitle: str


# ---------------------------------------------------------------- KPIs
class TenantKpis(BaseModel):
    tenant_id: uuid.UUID
    tenant_name: str
    currency_code: str
    active_projects: int
    open_tasks: int
    overdue_tasks: int
    overdue_invoices: int
    invoiced: float
    average_invoice: float
    collected: float
    hours_logged: float


class TopCustomer(Row):
    name: str
    invoiced: float
    invoices: int


class KpiSummaryOut(BaseModel):
    tenants: list[TenantKpis]
    top_customers: list[TopCustomer]
    totals: dict[str, float]
