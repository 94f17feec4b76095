"""Boards served for real (uvicorn on loopback) on a fresh database per start, and a small client."""

from __future__ import annotations

import itertools
import os
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from examples.boards.serve import running

_databases = itertools.count()


@dataclass
class Account:
    """A signed-up, logged-in user: ``client`` talks to ``/api`` with the user's bearer token."""
    id: int
    email: str
    password: str
    display_name: str
    workspace: str
    client: httpx.Client


class Boards:
    def __init__(self, base_url: str, stack: ExitStack):
        self.base_url = base_url
        self.api = base_url + "/api"
        self._stack = stack
        self.anonymous = self._client()

    def _client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._stack.enter_context(httpx.Client(base_url=self.api, headers=headers, timeout=10))

    def login(self, email: str, password: str) -> httpx.Response:
        return self.anonymous.post("/token", data={"username": email, "password": password})

    def signup(self, name: str) -> Account:
        email, password = f"{name.lower()}@{name.lower()}.example", f"pw-{name}-{name}"
        r = self.anonymous.post("/signup", json={"email": email, "password": password, "display_name": name})
        assert r.status_code == 201, r.text
        body = r.json()
        token = self.login(email, password).json()["access_token"]
        return Account(body["id"], email, password, name, body["workspace"], self._client(token))


@pytest.fixture
def boards_app(pg_server):
    """``start(*leaks) -> Boards``: a server on a brand-new database; all stopped and dropped afterwards."""
    with ExitStack() as stack:
        def start(*leaks: str) -> Boards:
            name = f"boards_t{os.getpid()}_{next(_databases)}"
            dsn = pg_server.create_database(name)
            stack.callback(pg_server.drop_database, name)
            return Boards(stack.enter_context(running(dsn, leaks)), stack)

        yield start


@pytest.fixture(autouse=True)
def _no_leaks_from_environment(monkeypatch):
    """The app also reads ``BOARDS_LEAKS``: a value exported in the shell must not turn a clean test leaky."""
    monkeypatch.delenv("BOARDS_LEAKS", raising=False)
