"""Teams, users and tags (4 operations)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi import status as http

from phoenix.api.common import (CONFLICT, ERRORS, ListOut, Order, Paging, ScopeDep, SearchQ, created, listing,
                                paging, sort_param)
from phoenix.api.models import TagIn, TagOut, TeamOut, UserListOut
from phoenix.repository import directory, tags
from phoenix.repository.tables import TAGS, TEAMS, USERS

router = APIRouter(prefix="/api/dashboard", tags=["directory"], responses=ERRORS)


@router.get("/teams", response_model=ListOut[TeamOut], summary="List teams")
async def list_teams(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None,
                     order: Order = "asc"):
    return listing(await TEAMS.list(scope, q=q, sort="name", order=order, limit=page.limit,
                                    offset=page.offset), page)


@router.get("/users", response_model=UserListOut, summary="List users, with the licence seats in use")
async def list_users(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None,
                     team_id: Annotated[uuid.UUID | None, Query()] = None,
                     role: Annotated[Literal["user", "admin", "corporate_admin"] | None, Query()] = None,
                     sort: sort_param(USERS.sortable) = "full_name", order: Order = "asc"):
    users, seats = await directory.list_users(scope, filters={"team_id": team_id, "role": role}, q=q, sort=sort,
                                              order=order, limit=page.limit, offset=page.offset)
    return {**listing(users, page), "seats_used": seats}


@router.get("/tags", response_model=ListOut[TagOut], summary="List tags")
async def list_tags(scope: ScopeDep, page: Annotated[Paging, Depends(paging)], q: SearchQ = None):
    return listing(await TAGS.list(scope, q=q, sort="name", limit=page.limit, offset=page.offset), page)


@router.post("/tags", response_model=TagOut, status_code=http.HTTP_201_CREATED, responses=CONFLICT,
             summary="Create a tag (names are unique per tenant)")
async def create_tag(scope: ScopeDep, body: TagIn, response: Response):
    row = await tags.create_tag(scope, body.model_dump())
    created(response, f"/api/dashboard/tags/{row['id']}")
    return row
