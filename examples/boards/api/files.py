"""Private files: uploaded as multipart (a ``file`` field and a ``title`` form field), owned by one user.

Metadata and content are separate routes, each with its own query: the classic place for one of the
two to forget the owner filter (leak ``file-idor``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status
from pydantic import BaseModel

from examples.boards.api.deps import Ctx, Id, Me
from examples.boards.api.paging import ListOf, Paging, listing

router = APIRouter(tags=["files"])

MAX_BYTES = 2 * 1024 * 1024
CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$")
META = "id, title, filename, content_type, size, created_at"


class FileMeta(BaseModel):
    id: int
    title: str
    filename: str
    content_type: str
    size: int
    created_at: datetime


def _safe_filename(name: str | None) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", (name or "").rsplit("/", 1)[-1]).strip("._")[:100]
    return cleaned or "upload.bin"


@router.get("/files", response_model=ListOf[FileMeta], summary="My files")
def list_files(ctx: Ctx, me: Me, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        rows = conn.execute(f"SELECT {META} FROM files WHERE owner_id = %s ORDER BY id LIMIT %s OFFSET %s",
                            (me.id, paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM files WHERE owner_id = %s", (me.id,)).fetchone()["n"]
    return listing(response, rows, total)


@router.post("/files", response_model=FileMeta, status_code=status.HTTP_201_CREATED,
             summary="Upload a file (multipart: `file` and `title`)")
def upload_file(ctx: Ctx, me: Me, file: Annotated[UploadFile, File()],
                title: Annotated[str, Form(min_length=1, max_length=200)]) -> dict:
    content = file.file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise HTTPException(413, f"files are limited to {MAX_BYTES} bytes")
    content_type = file.content_type or ""
    if not CONTENT_TYPE.match(content_type):
        content_type = "application/octet-stream"  # it is echoed as a header on download: keep it tame
    with ctx.db.transaction() as conn:
        return conn.execute(
            f"INSERT INTO files (owner_id, title, filename, content_type, size, content) "
            f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {META}",
            (me.id, title, _safe_filename(file.filename), content_type, len(content), content)).fetchone()


@router.get("/files/{id}", response_model=FileMeta, summary="One of my files' metadata")
def get_file(ctx: Ctx, me: Me, id: Id) -> dict:
    with ctx.db.transaction() as conn:
        row = conn.execute(f"SELECT {META} FROM files WHERE id = %s AND owner_id = %s", (id, me.id)).fetchone()
    if row is None:
        raise HTTPException(404, "file not found")
    return row


@router.get("/files/{id}/content", response_class=Response, summary="Download one of my files",
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file's bytes"}})
def download_file(ctx: Ctx, me: Me, id: Id) -> Response:
    sql, args = "SELECT filename, content_type, content FROM files WHERE id = %s", (id,)
    if not ctx.leak("file-idor"):
        # Leak ``file-idor``: the download route was added later, for a CDN that "checks links anyway".
        sql, args = sql + " AND owner_id = %s", (id, me.id)
    with ctx.db.transaction() as conn:
        row = conn.execute(sql, args).fetchone()
    if row is None:
        raise HTTPException(404, "file not found")
    return Response(bytes(row["content"]), media_type=row["content_type"],
                    headers={"Content-Disposition": f'attachment; filename="{row["filename"]}"'})


@router.delete("/files/{id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete one of my files")
def delete_file(ctx: Ctx, me: Me, id: Id) -> Response:
    with ctx.db.transaction() as conn:
        deleted = conn.execute("DELETE FROM files WHERE id = %s AND owner_id = %s", (id, me.id)).rowcount
    if not deleted:
        raise HTTPException(404, "file not found")
    return Response(status_code=204)
