"""Run an ASGI app's lifespan around an in-process scan.

``httpx.ASGITransport`` sends requests but never the lifespan events, so an app that opens pools at
startup (or closes them at shutdown) would leak connections and leave tasks pending at exit. This
drives ``lifespan.startup`` / ``lifespan.shutdown`` the way a server does; an app without lifespan
support is simply not told.
"""

from __future__ import annotations

import asyncio

from harness.errors import HarnessError


class Lifespan:
    def __init__(self, app):
        self.app = app
        self._receive: asyncio.Queue = asyncio.Queue()
        self._sent: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        try:
            await self.app(scope, self._receive.get, self._sent.put)
        except Exception:  # an app that does not speak lifespan raises on the scope type
            self.supported = False
            await self._sent.put({"type": "lifespan.unsupported"})

    async def _event(self, name: str) -> None:
        await self._receive.put({"type": f"lifespan.{name}"})
        reply = await asyncio.wait_for(self._sent.get(), timeout=60)
        if reply["type"] == "lifespan.unsupported":
            return
        if reply["type"] == f"lifespan.{name}.failed":
            raise HarnessError(f"the app's {name} failed: {reply.get('message', '')}")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._event("startup")

    async def stop(self) -> None:
        if self._task is None:
            return
        if self.supported and not self._task.done():
            await self._event("shutdown")
        await asyncio.wait_for(self._task, timeout=60)
        self._task = None
