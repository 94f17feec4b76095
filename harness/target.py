"""The target as HTTP: one ``httpx.AsyncClient`` per principal, in-process (ASGI) or live (URL).

One client per principal is kept for the whole run: Schemathesis's own ASGI transport would start a
new test client, and so the app's lifespan, for every request.
"""

from __future__ import annotations

import httpx

from harness.errors import HarnessError
from harness.lifespan import Lifespan
from harness.scenario import Principal, Scenario

IN_PROCESS_URL = "http://target.local"


class Target:
    def __init__(self, scenario: Scenario, app=None, base_url: str | None = None, timeout: float = 30.0):
        if app is None and not base_url:
            raise HarnessError("a target needs an in-process app or a base URL")
        self.scenario = scenario
        self.app = app
        self.base_url = base_url or IN_PROCESS_URL
        self.timeout = timeout
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.anonymous = self._client({})
        self.lifespan = Lifespan(app) if app is not None else None

    async def start(self) -> "Target":
        """Run the in-process app's startup (a live target is already running)."""
        if self.lifespan:
            await self.lifespan.start()
        return self

    def _client(self, headers: dict) -> httpx.AsyncClient:
        # An unhandled exception becomes a 500, as behind a real server: one crash must not end the run.
        transport = (httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
                     if self.app is not None else None)
        return httpx.AsyncClient(transport=transport, base_url=self.base_url, headers=headers,
                                 timeout=self.timeout, follow_redirects=False)

    async def login(self, principal: Principal) -> httpx.AsyncClient:
        method, path, body = self.scenario.login_request(principal)
        try:
            response = await self.anonymous.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise HarnessError(f"target {self.base_url} unreachable while logging in {principal.name}: {exc}") from None
        if response.status_code >= 300:
            raise HarnessError(f"principal {principal.name} cannot log in: {method} {path} answered "
                               f"{response.status_code} {response.text[:120]!r}")
        client = self._client(self.scenario.auth_headers(response.json()))
        self.clients[principal.name] = client
        return client

    async def spec(self) -> dict:
        path = self.scenario.openapi_path
        try:
            response = await self.anonymous.get(path)
            if response.status_code in (401, 403) and self.clients:
                response = await next(iter(self.clients.values())).get(path)
        except httpx.HTTPError as exc:
            raise HarnessError(f"target {self.base_url} unreachable: {exc}") from None
        if response.status_code != 200:
            raise HarnessError(f"cannot load the OpenAPI spec from {self.base_url}{path}: {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise HarnessError(f"{self.base_url}{path} is not JSON") from None

    async def close(self) -> None:
        for client in [self.anonymous, *self.clients.values()]:
            await client.aclose()
        if self.lifespan:
            await self.lifespan.stop()
