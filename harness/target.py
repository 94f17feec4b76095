"""The target as HTTP: one ``httpx.AsyncClient`` per principal, in-process (ASGI) or live (URL).

One client per principal is kept for the whole run: Schemathesis's own ASGI transport would start a
new test client, and so the app's lifespan, for every request.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from harness import auth
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
        self.base_url = (base_url or IN_PROCESS_URL).rstrip("/")
        #: Where the operations live: the base URL plus the spec's ``servers[0].url`` path (see :meth:`spec`).
        self.api_base = self.base_url
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
        return httpx.AsyncClient(transport=transport, base_url=self.api_base, headers=headers,
                                 timeout=self.timeout, follow_redirects=False)

    async def login(self, principal: Principal, client: httpx.AsyncClient | None = None) -> httpx.AsyncClient:
        """Log ``principal`` in on its own client (a fresh one unless given), kept for the run."""
        client = client or self._client({})
        try:
            await auth.login(self.scenario, client, principal)
        except httpx.HTTPError as exc:
            await client.aclose()
            raise HarnessError(f"target {self.api_base} unreachable while logging in {principal.name}: {exc}") from None
        except BaseException:
            await client.aclose()
            raise
        old = self.clients.get(principal.name)
        self.clients[principal.name] = client
        if old is not None and old is not client:
            await old.aclose()
        return client

    async def spec(self) -> dict:
        """The OpenAPI document (a URL path, an absolute URL or a local file); honours ``servers[0].url``."""
        path = self.scenario.openapi_path
        if "://" not in path and Path(path).is_file():  # a local copy of the spec: nothing is fetched
            try:
                return self._use_servers(json.loads(Path(path).read_text()))
            except ValueError:
                raise HarnessError(f"{path} is not JSON") from None
        url = path if "://" in path else self.base_url + path  # from the root, whatever api_base is
        try:
            response = await self.anonymous.get(url)
            if response.status_code in (401, 403) and self.clients:
                response = await next(iter(self.clients.values())).get(url)
        except httpx.HTTPError as exc:
            raise HarnessError(f"target {self.base_url} unreachable: {exc}") from None
        if response.status_code != 200:
            raise HarnessError(f"cannot load the OpenAPI spec from {self.base_url}{path}: {response.status_code}")
        try:
            doc = response.json()
        except ValueError:
            raise HarnessError(f"{self.base_url}{path} is not JSON (an HTML page? check [target] openapi)") from None
        return self._use_servers(doc)

    def _use_servers(self, doc: dict) -> dict:
        """Send requests to the base URL + the path of ``servers[0].url`` (``/api``), never to another host:
        an absolute server URL names where the API is deployed, not where this scan may go."""
        servers = doc.get("servers") if isinstance(doc, dict) else None
        url = servers[0].get("url") if servers and isinstance(servers[0], dict) else None
        if url and getattr(self.scenario, "honour_servers", True):
            prefix = urlsplit(url).path.rstrip("/") if "://" in url else url.rstrip("/")
            if prefix and not prefix.startswith("/"):
                prefix = "/" + prefix
            self.api_base = self.base_url + prefix
            for client in [self.anonymous, *self.clients.values()]:
                client.base_url = self.api_base
        return doc

    async def close(self) -> None:
        for client in [self.anonymous, *self.clients.values()]:
            await client.aclose()
        if self.lifespan:
            await self.lifespan.stop()
