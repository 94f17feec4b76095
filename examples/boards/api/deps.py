"""Dependencies every router shares: the app context, the caller, the caller's workspace.

Workspace routes take the slug from the path (``/w/{ws}/...``) and turn it into a :class:`Membership`
here, in one place, because that is where a multi-tenant app decides whose data a request may touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import OAuth2PasswordBearer

from examples.boards.db import Database
from examples.boards.leaks import Switches
from examples.boards.security import token_hash

# tokenUrl is relative, as FastAPI's own tutorial writes it: it resolves to /api/token from /api/docs.
oauth2 = OAuth2PasswordBearer(tokenUrl="token")


@dataclass(frozen=True)
class Context:
    db: Database
    leak: Switches


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str


@dataclass(frozen=True)
class Membership:
    workspace_id: int
    slug: str
    name: str
    personal: bool
    #: ``owner`` or ``member``; None only when a leak let a non-member through.
    role: str | None


def context(request: Request) -> Context:
    return request.app.state.boards


Ctx = Annotated[Context, Depends(context)]


def current_user(ctx: Ctx, token: Annotated[str, Depends(oauth2)]) -> User:
    with ctx.db.transaction() as conn:
        row = conn.execute(
            "SELECT u.id, u.email, u.display_name FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.token_hash = %s AND t.expires_at > now()", (token_hash(token),)).fetchone()
    if row is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return User(**row)


Me = Annotated[User, Depends(current_user)]
Slug = Annotated[str, Path(min_length=1, max_length=40, description="the workspace's slug")]
#: Ids are PostgreSQL ``serial``: bounding them keeps a fuzzer's huge integers a 422, not a 500.
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

_MEMBERSHIP = ("SELECT w.id AS workspace_id, w.slug, w.name, w.personal, m.role FROM workspaces w "
               "JOIN memberships m ON m.workspace_id = w.id AND m.user_id = %s WHERE w.slug = %s")


def membership(ctx: Ctx, me: Me, ws: Slug) -> Membership:
    """The caller's membership of ``ws``; a workspace they are not in is reported as missing (404)."""
    with ctx.db.transaction() as conn:
        row = conn.execute(_MEMBERSHIP, (me.id, ws)).fetchone()
    if row is None:
        raise HTTPException(404, "workspace not found")
    return Membership(**row)


def ownership(member: Annotated[Membership, Depends(membership)]) -> Membership:
    if member.role != "owner":
        raise HTTPException(403, "only a workspace owner may do this")
    return member


def board_reader(ctx: Ctx, me: Me, ws: Slug) -> Membership:
    """Resolution for the board read routes (list and detail).

    Leak ``foreign-workspace-slug``: these routes were written when "the UI only links to your own
    workspaces", so they look the workspace up by slug and never ask whether the caller is a member.
    """
    if not ctx.leak("foreign-workspace-slug"):
        return membership(ctx, me, ws)
    with ctx.db.transaction() as conn:
        row = conn.execute(
            "SELECT w.id AS workspace_id, w.slug, w.name, w.personal, m.role FROM workspaces w "
            "LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = %s WHERE w.slug = %s",
            (me.id, ws)).fetchone()
    if row is None:
        raise HTTPException(404, "workspace not found")
    return Membership(**row)


Member = Annotated[Membership, Depends(membership)]
Owner = Annotated[Membership, Depends(ownership)]
Reader = Annotated[Membership, Depends(board_reader)]
