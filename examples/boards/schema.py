"""The Boards schema and its installer.

No tenant column anywhere and no row-level security: the app isolates tenants in its own queries
(``owner_id`` for private notes and files, ``workspace_id`` through memberships for boards and cards),
which is exactly what the harness has to check from the outside. The schema lives in Python rather
than a ``.sql`` file so that the package needs no package data.
"""

from __future__ import annotations

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            serial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    display_name  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash text PRIMARY KEY,
    user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    id         serial PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    personal   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS memberships (
    workspace_id integer NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('owner', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_id);
CREATE TABLE IF NOT EXISTS notes (
    id         serial PRIMARY KEY,
    owner_id   integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notes_owner ON notes (owner_id, id);
CREATE TABLE IF NOT EXISTS files (
    id           serial PRIMARY KEY,
    owner_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size         integer NOT NULL,
    content      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS files_owner ON files (owner_id, id);
CREATE TABLE IF NOT EXISTS boards (
    id           serial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS boards_workspace ON boards (workspace_id, id);
CREATE TABLE IF NOT EXISTS cards (
    id         serial PRIMARY KEY,
    board_id   integer NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    position   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cards_board ON cards (board_id, position, id);
"""

#: Every table, in an order ``TRUNCATE`` accepts (``GET /admin/reset`` wipes them all).
TABLES = ("cards", "boards", "files", "notes", "memberships", "workspaces", "tokens", "users")


def install(dsn: str) -> None:
    """Create the tables if missing (idempotent: ``serve`` and ``running`` call it on every start)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(461802)")  # two servers starting on one database
        try:
            conn.execute(SCHEMA)
        finally:
            conn.execute("SELECT pg_advisory_unlock(461802)")
