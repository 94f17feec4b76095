"""Boards of a shared workspace: ``/w/{ws}/boards...``; the tenant is the workspace named by the slug.

Reads go through :func:`~examples.boards.api.deps.board_reader` (where leak ``foreign-workspace-slug``
lives), writes through the membership check; deleting a board is for owners only.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from examples.boards.api.deps import Ctx, Id, Member, Owner, Reader
from examples.boards.api.paging import ListOf, Paging, listing

router = APIRouter(tags=["boards"])

COLUMNS = "id, name, description, created_at"


class BoardIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2_000)


class BoardPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2_000)


class Board(BaseModel):
    id: int
    name: str
    description: str
    created_at: datetime


@router.get("/w/{ws}/boards", response_model=ListOf[Board], summary="Boards of a workspace")
def list_boards(ctx: Ctx, reader: Reader, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        rows = conn.execute(f"SELECT {COLUMNS} FROM boards WHERE workspace_id = %s ORDER BY id LIMIT %s OFFSET %s",
                            (reader.workspace_id, paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM boards WHERE workspace_id = %s",
                             (reader.workspace_id,)).fetchone()["n"]
    return listing(response, rows, total)


@router.post("/w/{ws}/boards", response_model=Board, status_code=status.HTTP_201_CREATED, summary="Create a board")
def create_board(ctx: Ctx, member: Member, body: BoardIn) -> dict:
    with ctx.db.transaction() as conn:
        return conn.execute(
            f"INSERT INTO boards (workspace_id, name, description) VALUES (%s, %s, %s) RETURNING {COLUMNS}",
            (member.workspace_id, body.name, body.description)).fetchone()


@router.get("/w/{ws}/boards/{board_id}", response_model=Board, summary="One board")
def get_board(ctx: Ctx, reader: Reader, board_id: Id) -> dict:
    with ctx.db.transaction() as conn:
        row = conn.execute(f"SELECT {COLUMNS} FROM boards WHERE id = %s AND workspace_id = %s",
                           (board_id, reader.workspace_id)).fetchone()
    if row is None:
        raise HTTPException(404, "board not found")
    return row


@router.patch("/w/{ws}/boards/{board_id}", response_model=Board, summary="Rename or describe a board")
def patch_board(ctx: Ctx, member: Member, board_id: Id, body: BoardPatch) -> dict:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    sets = "".join(f"{column} = %({column})s, " for column in changes)  # columns come from the model
    with ctx.db.transaction() as conn:
        row = conn.execute(
            f"UPDATE boards SET {sets}id = id WHERE id = %(id)s AND workspace_id = %(ws)s RETURNING {COLUMNS}",
            {**changes, "id": board_id, "ws": member.workspace_id}).fetchone()
    if row is None:
        raise HTTPException(404, "board not found")
    return row


@router.delete("/w/{ws}/boards/{board_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a board and its cards (owners only)")
def delete_board(ctx: Ctx, owner: Owner, board_id: Id) -> Response:
    with ctx.db.transaction() as conn:
        deleted = conn.execute("DELETE FROM boards WHERE id = %s AND workspace_id = %s",
                               (board_id, owner.workspace_id)).rowcount
    if not deleted:
        raise HTTPException(404, "board not found")
    return Response(status_code=204)
