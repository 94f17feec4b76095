"""``GET /admin/reset``: a real-world anti-pattern kept on purpose.

A state-changing GET, left over from development, open to any logged-in user, that really wipes the
whole store. A scanner that sends every GET it finds, or a crawler that follows links, destroys the
app; a harness must know not to run it on someone's live app.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from examples.boards.api.deps import Ctx, Me
from examples.boards.schema import TABLES

router = APIRouter(tags=["admin"])


class ResetOut(BaseModel):
    reset: bool


@router.get("/admin/reset", response_model=ResetOut, summary="Wipe every table (development leftover)")
def reset(ctx: Ctx, me: Me) -> dict:
    with ctx.db.transaction() as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    return {"reset": True}
