"""Workspaces (the shared tenants, named by slug) and their memberships.

``PATCH /w/{ws}/members/{user_id}`` is an account-level operation: it can demote an owner, so a
scanner must not run it on someone's live app by default.
"""

from __future__ import annotations

import re
from typing import Literal

import psycopg
from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from examples.boards.api.deps import Ctx, Id, Me, Member, Owner
from examples.boards.api.paging import ListOf, Paging, listing

router = APIRouter(tags=["workspaces"])

SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
Role = Literal["owner", "member"]


class WorkspaceIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    slug: str | None = Field(None, pattern=SLUG, description="derived from the name when omitted")


class Workspace(BaseModel):
    slug: str
    name: str
    personal: bool
    role: Role


class MemberIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    role: Role = "member"


class RoleIn(BaseModel):
    role: Role


class MemberOut(BaseModel):
    user_id: int
    display_name: str
    role: Role


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:34].strip("-")
    return slug or "workspace"


def create_workspace(conn: psycopg.Connection, owner_id: int, name: str, slug: str | None = None,
                     personal: bool = False) -> dict:
    """Insert a workspace with its owner; a derived slug gets a ``-2``, ``-3``… suffix when taken."""
    if slug is not None:
        candidates = [slug]
    else:
        base = slugify(name)
        candidates = [base] + [f"{base}-{n}" for n in range(2, 200)]
    for candidate in candidates:
        row = conn.execute(
            "INSERT INTO workspaces (slug, name, personal) VALUES (%s, %s, %s) "
            "ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name, personal",
            (candidate, name, personal)).fetchone()
        if row is not None:
            conn.execute("INSERT INTO memberships (workspace_id, user_id, role) VALUES (%s, %s, 'owner')",
                         (row["id"], owner_id))
            return {"slug": row["slug"], "name": row["name"], "personal": row["personal"], "role": "owner"}
    raise HTTPException(409, f"workspace slug {candidates[0]!r} is taken")


@router.get("/workspaces", response_model=ListOf[Workspace], summary="My workspaces")
def list_workspaces(ctx: Ctx, me: Me, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        rows = conn.execute(
            "SELECT w.slug, w.name, w.personal, m.role FROM memberships m "
            "JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = %s ORDER BY w.id LIMIT %s OFFSET %s",
            (me.id, paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM memberships WHERE user_id = %s", (me.id,)).fetchone()["n"]
    return listing(response, rows, total)


@router.post("/workspaces", response_model=Workspace, status_code=status.HTTP_201_CREATED,
             summary="Create a workspace (the caller becomes its owner)")
def post_workspace(ctx: Ctx, me: Me, body: WorkspaceIn) -> dict:
    with ctx.db.transaction() as conn:
        return create_workspace(conn, me.id, body.name, body.slug)


@router.get("/w/{ws}", response_model=Workspace, summary="One of my workspaces")
def get_workspace(member: Member) -> dict:
    return {"slug": member.slug, "name": member.name, "personal": member.personal, "role": member.role}


@router.get("/w/{ws}/members", response_model=ListOf[MemberOut], summary="Members of a workspace")
def list_members(ctx: Ctx, member: Member, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        rows = conn.execute(
            "SELECT u.id AS user_id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.workspace_id = %s ORDER BY u.id LIMIT %s OFFSET %s",
            (member.workspace_id, paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM memberships WHERE workspace_id = %s",
                             (member.workspace_id,)).fetchone()["n"]
    return listing(response, rows, total)


@router.post("/w/{ws}/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED,
             summary="Add an existing user to the workspace (owners only)")
def add_member(ctx: Ctx, owner: Owner, body: MemberIn) -> dict:
    with ctx.db.transaction() as conn:
        user = conn.execute("SELECT id, display_name FROM users WHERE email = %s",
                            (body.email.strip().lower(),)).fetchone()
        if user is None:
            raise HTTPException(404, "no user with that email")
        added = conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING role", (owner.workspace_id, user["id"], body.role)).fetchone()
    if added is None:
        raise HTTPException(409, "already a member")
    return {"user_id": user["id"], "display_name": user["display_name"], "role": body.role}


@router.patch("/w/{ws}/members/{user_id}", response_model=MemberOut,
              summary="Change a member's role (owners only; can demote an owner)")
def change_role(ctx: Ctx, owner: Owner, user_id: Id, body: RoleIn) -> dict:
    with ctx.db.transaction() as conn:
        row = conn.execute(
            "UPDATE memberships m SET role = %s FROM users u WHERE u.id = m.user_id "
            "AND m.workspace_id = %s AND m.user_id = %s RETURNING m.user_id, u.display_name, m.role",
            (body.role, owner.workspace_id, user_id)).fetchone()
        if row is None:
            raise HTTPException(404, "not a member of this workspace")
        owners = conn.execute("SELECT count(*) AS n FROM memberships WHERE workspace_id = %s AND role = 'owner'",
                              (owner.workspace_id,)).fetchone()["n"]
        if owners == 0:
            raise HTTPException(409, "a workspace keeps at least one owner")  # rolls the change back
    return row
