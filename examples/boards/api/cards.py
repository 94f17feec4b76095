"""Cards on boards: ``/w/{ws}/boards/{board_id}/cards`` (nested) and ``/w/{ws}/cards/{card_id}``.

A card has no workspace column: its tenant is its board's workspace. So every card route must tie the
board to ``{ws}``; the two places that forget are leaks ``cards-board-unscoped`` (the nested routes
trust ``{board_id}``) and ``card-move-foreign-board`` (a PATCH moving a card trusts ``board_id``).
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from examples.boards.api.deps import MAX_ID, Context, Ctx, Id, Member, Membership
from examples.boards.api.paging import ListOf, Paging, listing

router = APIRouter(tags=["cards"])

COLUMNS = "c.id, c.board_id, c.title, c.body, c.position, c.created_at, c.updated_at"
RETURNING = COLUMNS.replace("c.", "")


class CardIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=10_000)
    position: int | None = Field(None, ge=0, le=1_000_000, description="appended at the end when omitted")


class CardPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=10_000)
    position: int | None = Field(None, ge=0, le=1_000_000)
    board_id: int | None = Field(None, ge=1, le=MAX_ID, description="move the card to another board of {ws}")


class Card(BaseModel):
    id: int
    board_id: int
    title: str
    body: str
    position: int
    created_at: datetime
    updated_at: datetime


def _board(conn: psycopg.Connection, ctx: Context, member: Membership, board_id: int, leak: str) -> None:
    """404 unless ``board_id`` is a board of the member's workspace (or, with ``leak`` on, any board)."""
    if ctx.leak(leak):
        row = conn.execute("SELECT 1 FROM boards WHERE id = %s", (board_id,)).fetchone()
    else:
        row = conn.execute("SELECT 1 FROM boards WHERE id = %s AND workspace_id = %s",
                           (board_id, member.workspace_id)).fetchone()
    if row is None:
        raise HTTPException(404, "board not found")


@router.get("/w/{ws}/boards/{board_id}/cards", response_model=ListOf[Card], summary="Cards of a board")
def list_cards(ctx: Ctx, member: Member, board_id: Id, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        _board(conn, ctx, member, board_id, "cards-board-unscoped")
        rows = conn.execute(f"SELECT {COLUMNS} FROM cards c WHERE c.board_id = %s ORDER BY c.position, c.id "
                            "LIMIT %s OFFSET %s", (board_id, paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM cards WHERE board_id = %s", (board_id,)).fetchone()["n"]
    return listing(response, rows, total)


@router.post("/w/{ws}/boards/{board_id}/cards", response_model=Card, status_code=status.HTTP_201_CREATED,
             summary="Add a card to a board")
def create_card(ctx: Ctx, member: Member, board_id: Id, body: CardIn) -> dict:
    with ctx.db.transaction() as conn:
        _board(conn, ctx, member, board_id, "cards-board-unscoped")
        return conn.execute(
            f"INSERT INTO cards (board_id, title, body, position) VALUES (%s, %s, %s, COALESCE(%s, "
            f"(SELECT COALESCE(max(position) + 1, 0) FROM cards WHERE board_id = %s))) RETURNING {RETURNING}",
            (board_id, body.title, body.body, body.position, board_id)).fetchone()


def _card(conn: psycopg.Connection, member: Membership, card_id: int) -> dict:
    row = conn.execute(f"SELECT {COLUMNS} FROM cards c JOIN boards b ON b.id = c.board_id "
                       "WHERE c.id = %s AND b.workspace_id = %s", (card_id, member.workspace_id)).fetchone()
    if row is None:
        raise HTTPException(404, "card not found")
    return row


@router.get("/w/{ws}/cards/{card_id}", response_model=Card, summary="One card")
def get_card(ctx: Ctx, member: Member, card_id: Id) -> dict:
    with ctx.db.transaction() as conn:
        return _card(conn, member, card_id)


@router.patch("/w/{ws}/cards/{card_id}", response_model=Card, summary="Edit a card or move it to another board")
def patch_card(ctx: Ctx, member: Member, card_id: Id, body: CardPatch) -> dict:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with ctx.db.transaction() as conn:
        _card(conn, member, card_id)
        if "board_id" in changes:
            _board(conn, ctx, member, changes["board_id"], "card-move-foreign-board")
        sets = "".join(f"{column} = %({column})s, " for column in changes)  # columns come from the model
        return conn.execute(f"UPDATE cards SET {sets}updated_at = now() WHERE id = %(id)s RETURNING {RETURNING}",
                            {**changes, "id": card_id}).fetchone()


@router.delete("/w/{ws}/cards/{card_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a card")
def delete_card(ctx: Ctx, member: Member, card_id: Id) -> Response:
    with ctx.db.transaction() as conn:
        _card(conn, member, card_id)
        conn.execute("DELETE FROM cards WHERE id = %s", (card_id,))
    return Response(status_code=204)
