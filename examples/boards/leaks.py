"""The switchable leaks of Boards (``BOARDS_LEAKS=name,...`` or ``create_app(leaks=...)``).

Each leak is a realistic tenant-isolation bug placed in the handler where such a bug really lives; the
handler asks :class:`Switches` whether it is on. Off by default: the clean build. ``affects`` names the
operations as the OpenAPI document does, relative to its server ``/api``.

The harness must find each leak from HTTP alone: it never imports this module nor reads the variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

ENV = "BOARDS_LEAKS"


@dataclass(frozen=True)
class Leak:
    name: str
    affects: tuple[str, ...]
    description: str


_CATALOGUE = (
    Leak("note-write-204", ("PUT /notes/{id}",),
         "the update filters on the note id only and answers 204 with no body, so another user's note changes"),
    Leak("password-other-user", ("PUT /users/{id}/password",),
         "the admin-panel password route forgets its `id == caller` check: anyone resets anyone's password (204)"),
    Leak("count-header", ("GET /notes",),
         "X-Total-Count comes from a table-wide count (every user's notes) while the body's total is right"),
    Leak("foreign-workspace-slug", ("GET /w/{ws}/boards", "GET /w/{ws}/boards/{board_id}"),
         "the board read routes resolve the workspace by slug without checking membership"),
    Leak("file-idor", ("GET /files/{id}/content",),
         "the download route loads the blob by id alone (the metadata route checks the owner; this one forgot)"),
    Leak("search-all-users", ("GET /notes",),
         "with `q`, the search branch (reused from a global search) drops the owner filter: every user's notes match"),
    Leak("card-move-foreign-board", ("PATCH /w/{ws}/cards/{card_id}",),
         "`board_id` in the body is only checked to exist, so a card moves into another workspace's board"),
    Leak("cards-board-unscoped", ("GET /w/{ws}/boards/{board_id}/cards", "POST /w/{ws}/boards/{board_id}/cards"),
         "nested card routes check membership of {ws} but load {board_id} without tying it to {ws}"),
)

REGISTRY: dict[str, Leak] = {leak.name: leak for leak in _CATALOGUE}


def parse(value: str | Iterable[str] | None) -> frozenset[str]:
    """Names from ``"a,b"`` or an iterable; ``all`` means every leak; unknown names are an error."""
    if value is None:
        return frozenset()
    parts = value.split(",") if isinstance(value, str) else value
    names = {name.strip() for name in parts if name and name.strip()}
    if "all" in names:
        return frozenset(REGISTRY)
    unknown = sorted(names - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown Boards leak(s): {', '.join(unknown)}; "
                         f"known: {', '.join(REGISTRY)} (or `all`); `python -m examples.boards leaks` lists them")
    return frozenset(names)


def from_env() -> frozenset[str]:
    return parse(os.environ.get(ENV))


class Switches:
    """The leaks on in one app; asking about a name not in the catalogue is a bug in the app, so it raises."""

    def __init__(self, names: Iterable[str] = ()):
        self.names = parse(names)

    def __call__(self, name: str) -> bool:
        if name not in REGISTRY:
            raise KeyError(f"no Boards leak named {name!r}")
        return name in self.names

    def __repr__(self) -> str:
        return f"Switches({sorted(self.names)})"
