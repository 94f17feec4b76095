"""List conventions: ``limit``/``offset`` in, ``{"items": [...], "total": n}`` plus ``X-Total-Count`` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Response
from pydantic import BaseModel

T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page(limit: Annotated[int, Query(ge=1, le=200)] = 50,
         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Page:
    return Page(limit, offset)


Paging = Annotated[Page, Depends(page)]


def listing(response: Response, items: list[dict], total: int, header_total: int | None = None) -> dict:
    """The list body; the header normally repeats ``total`` (the caller's own count)."""
    response.headers["X-Total-Count"] = str(total if header_total is None else header_total)
    return {"items": items, "total": total}


def like(term: str) -> str:
    """A substring ILIKE pattern with the user's wildcards escaped."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
