"""KPI summary, activity feed and global search (3 operations)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from phoenix.api.common import ERRORS, PRINTABLE, ListOut, Paging, ScopeDep, cursor_paging, listing, paging
from phoenix.api.models import ActivityOut, KpiSummaryOut, SearchHit
from phoenix.repository import activity, kpis, search as search_repo

router = APIRouter(prefix="/api/dashboard", tags=["insights"], responses=ERRORS)
Kind = Literal["project", "task", "customer", "invoice"]


@router.get("/kpis/summary", response_model=KpiSummaryOut,
            summary="KPI widgets per visible tenant: counts, sums, averages (cached briefly)")
async def kpi_summary(scope: ScopeDep, request: Request):
    cache = request.app.state.cache
    key = cache.key(scope.tenants, request.url.path, request.url.query)
    hit = cache.get(key)
    if hit is None:
        hit = await kpis.summary(scope)
        cache.put(key, hit)
    return hit


@router.get("/activity", response_model=ListOut[ActivityOut], summary="Activity feed, newest first")
async def activity_feed(scope: ScopeDep, page: Annotated[Paging, Depends(cursor_paging)],
                        action: Annotated[Literal["create", "update", "delete", "login", "export"] | None,
                                          Query()] = None,
                        entity: Annotated[str | None, Query(min_length=1, max_length=40,
                                                            pattern=r"^[a-z_]+$")] = None):
    return listing(await activity.feed(scope, filters={"action": action, "entity": entity},
                                       limit=page.limit, offset=page.offset), page)


@router.get("/search", response_model=ListOut[SearchHit],
            summary="Search projects, tasks, customers and invoices by name")
async def search(scope: ScopeDep, page: Annotated[Paging, Depends(paging)],
                 q: Annotated[str, Query(min_length=2, max_length=100, pattern=PRINTABLE)],
                 types: Annotated[list[Kind] | None, Query(description="Restrict to these kinds")] = None):
    kinds = list(dict.fromkeys(types)) if types else ["project", "task", "customer", "invoice"]
    return listing(await search_repo.search(scope, q, kinds, page.limit, page.offset), page)
