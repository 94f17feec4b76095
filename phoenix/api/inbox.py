"""Notifications and personal dashboards with their widgets (6 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import ERRORS, ListOut, Paging, ScopeDep, SearchQ, created, listing, paging
from phoenix.api.models import DashboardIn, DashboardOut, NotificationKind, NotificationOut, WidgetIn, WidgetOut
from phoenix.repository import work

router = APIRouter(prefix="/api/dashboard", tags=["inbox & dashboards"], responses=ERRORS)


@router.get("/notifications", response_model=ListOut[NotificationOut], summary="My notifications")
async def list_notifications(scope: ScopeDep, page: Annotated[Paging, Depends(paging)],
                             unread: Annotated[bool | None, Query()] = None,
                             kind: Annotated[NotificationKind | None, Query()] = None):
    return listing(await work.my_notifications(scope, unread=unread, kind=kind, limit=page.limit,
                                               offset=page.offset), page)


@router.post("/notifications/{notification_id:uuid}/read", response_model=NotificationOut,
             summary="Mark one of my notifications read")
async def mark_notification_read(scope: ScopeDep, notification_id: uuid.UUID):
    return await work.mark_read(scope, notification_id)


@router.get("/dashboards", response_model=ListOut[DashboardOut], summary="My and shared dashboards")
async def list_dashboards(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None):
    return listing(await work.list_dashboards(scope, q=q, limit=page.limit, offset=page.offset), page)


@router.post("/dashboards", response_model=DashboardOut, status_code=http.HTTP_201_CREATED,
             summary="Create a dashboard")
async def create_dashboard(scope: ScopeDep, body: DashboardIn, response: Response):
    row = await work.create_dashboard(scope, body.model_dump())
    created(response, f"/api/dashboard/dashboards/{row['id']}/widgets")
    return row


@router.get("/dashboards/{dashboard_id:uuid}/widgets", response_model=ListOut[WidgetOut],
            summary="List a dashboard's widgets")
async def list_widgets(scope: ScopeDep, dashboard_id: uuid.UUID, page: Annotated[Paging, Depends(paging)]):
    return listing(await work.list_widgets(scope, dashboard_id, limit=page.limit, offset=page.offset), page)


@router.post("/dashboards/{dashboard_id:uuid}/widgets", response_model=WidgetOut, status_code=http.HTTP_201_CREATED,
             summary="Add a widget to a dashboard")
async def add_widget(scope: ScopeDep, dashboard_id: uuid.UUID, body: WidgetIn, response: Response):
    row = await work.add_widget(scope, dashboard_id, body.model_dump())
    created(response, f"/api/dashboard/dashboards/{dashboard_id}/widgets")
    return row
