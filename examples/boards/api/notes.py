"""Private notes: every user is their own tenant (``notes.owner_id``), never shown in a response.

The clean build's quirk: ``DELETE /notes/{id}`` on a note that is not yours answers 200
``{"deleted": false}`` and does nothing, an idempotent-looking delete. Not a leak: nothing changes and
nothing is revealed (a missing note answers the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from examples.boards.api.deps import Ctx, Id, Me
from examples.boards.api.paging import ListOf, Paging, like, listing

router = APIRouter(tags=["notes"])

COLUMNS = "id, title, body, created_at, updated_at"


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=20_000)


class Note(BaseModel):
    id: int
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


class Deleted(BaseModel):
    deleted: bool


@router.get("/notes", response_model=ListOf[Note], summary="My notes, optionally searched with q")
def list_notes(ctx: Ctx, me: Me, paging: Paging, response: Response,
               q: Annotated[str | None, Query(max_length=100, description="substring of title or body")] = None,
               ) -> dict:
    where, args = "owner_id = %s", [me.id]
    if q:
        if ctx.leak("search-all-users"):
            # The search branch was lifted from the admin console's global search, owner filter and all
            # (there was none): `q` replaces the scope instead of narrowing it.
            where, args = "(title ILIKE %s OR body ILIKE %s)", [like(q), like(q)]
        else:
            where, args = where + " AND (title ILIKE %s OR body ILIKE %s)", args + [like(q), like(q)]
    with ctx.db.transaction() as conn:
        rows = conn.execute(f"SELECT {COLUMNS} FROM notes WHERE {where} ORDER BY id LIMIT %s OFFSET %s",
                            (*args, paging.limit, paging.offset)).fetchall()
        total = conn.execute(f"SELECT count(*) AS n FROM notes WHERE {where}", args).fetchone()["n"]
        header_total = None
        if ctx.leak("count-header"):
            # A "fast count" for the pagination header, added when counting got slow: table-wide.
            header_total = conn.execute("SELECT count(*) AS n FROM notes").fetchone()["n"]
    return listing(response, rows, total, header_total)


@router.post("/notes", response_model=Note, status_code=status.HTTP_201_CREATED, summary="Create a note")
def create_note(ctx: Ctx, me: Me, body: NoteIn) -> dict:
    with ctx.db.transaction() as conn:
        return conn.execute(f"INSERT INTO notes (owner_id, title, body) VALUES (%s, %s, %s) RETURNING {COLUMNS}",
                            (me.id, body.title, body.body)).fetchone()


@router.get("/notes/{id}", response_model=Note, summary="One of my notes")
def get_note(ctx: Ctx, me: Me, id: Id) -> dict:
    with ctx.db.transaction() as conn:
        row = conn.execute(f"SELECT {COLUMNS} FROM notes WHERE id = %s AND owner_id = %s", (id, me.id)).fetchone()
    if row is None:
        raise HTTPException(404, "note not found")
    return row


@router.put("/notes/{id}", status_code=status.HTTP_204_NO_CONTENT, summary="Replace a note's title and body")
def update_note(ctx: Ctx, me: Me, id: Id, body: NoteIn) -> Response:
    sql = "UPDATE notes SET title = %s, body = %s, updated_at = now() WHERE id = %s"
    args: tuple = (body.title, body.body, id)
    if not ctx.leak("note-write-204"):
        # Leak ``note-write-204`` is this one missing line: the update trusts the id in the path.
        sql, args = sql + " AND owner_id = %s", args + (me.id,)
    with ctx.db.transaction() as conn:
        updated = conn.execute(sql, args).rowcount
    if not updated:
        raise HTTPException(404, "note not found")
    return Response(status_code=204)


@router.delete("/notes/{id}", response_model=Deleted, summary="Delete a note (200 with deleted=false if none)")
def delete_note(ctx: Ctx, me: Me, id: Id) -> dict:
    with ctx.db.transaction() as conn:
        deleted = conn.execute("DELETE FROM notes WHERE id = %s AND owner_id = %s", (id, me.id)).rowcount
    return {"deleted": bool(deleted)}
