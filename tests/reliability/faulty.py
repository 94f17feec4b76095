"""The toy app with one injected misbehaviour, for the reliability tests (not Phoenix: the class, not
the instance).

- ``slow``: ``GET /slow`` sleeps 60 s in the event loop, ``GET /stuck`` sleeps 60 s in a worker thread
  (an ``async`` handler can be cancelled, a thread cannot: both must not stall the scan);
- ``huge``: ``GET /export/notes`` answers a prebuilt JSON body of ``HUGE_MB`` megabytes;
- ``empty``: every API call answers 200 with an empty body (a vacuous pass if 200 were enough);
- ``badutf8``: the (leaky) note detail carries bytes that are not UTF-8 around the leaked row;
- ``garbage-login``: the login answers 200 with an empty body, or with HTML (``garbage-login-html``).
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response

from tests.harness.toyapp import ToyScenario

HUGE_MB = 24
FAULTS = ("slow", "huge", "empty", "badutf8", "garbage-login", "garbage-login-html")
_HUGE: bytes | None = None


def huge_body() -> bytes:
    """Built once per process (before any measurement), so the app's own copy is not the scan's."""
    global _HUGE
    if _HUGE is None:
        row = {"id": "00000000-0000-4000-8000-00000000ffff", "title": "x" * 200}
        n = HUGE_MB * (1 << 20) // (len(json.dumps(row)) + 2)
        _HUGE = json.dumps([row] * n).encode()
    return _HUGE


def add_fault(app: FastAPI, fault: str) -> FastAPI:
    if fault == "slow":
        @app.get("/slow", responses={200: {"content": {"application/json": {}}}})
        async def slow():
            await asyncio.sleep(60)
            return {"ok": True}

        @app.get("/stuck")
        def stuck():
            time.sleep(60)
            return {"ok": True}
    elif fault == "huge":
        body = huge_body()

        @app.get("/export/notes", responses={200: {"content": {"application/json": {}}}})
        def export():
            return Response(body, media_type="application/json")
    elif fault == "empty":
        @app.middleware("http")
        async def empty(request: Request, call_next):
            response = await call_next(request)
            if request.url.path in ("/openapi.json", "/login"):
                return response
            return Response(b"", status_code=200)
    elif fault == "badutf8":
        @app.middleware("http")
        async def badutf8(request: Request, call_next):
            response = await call_next(request)
            if not request.url.path.startswith("/notes/") or response.status_code != 200:
                return response
            body = b"".join([chunk async for chunk in response.body_iterator])
            broken = body[:-1] + b', "blob": "\xff\xfe\xc3("}'
            return Response(broken, status_code=200, media_type="application/json")
    elif fault.startswith("garbage-login"):
        html = fault.endswith("html")

        @app.middleware("http")
        async def garbage(request: Request, call_next):
            if request.url.path == "/login":
                return Response(b"<html><body>Welcome!</body></html>" if html else b"", status_code=200,
                                media_type="text/html" if html else None)
            return await call_next(request)
    else:
        raise ValueError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")
    return app


class FaultyScenario(ToyScenario):
    name = "toy-faulty"

    def __init__(self, fault: str, leaky: bool = False):
        super().__init__(leaky=leaky or fault == "badutf8")
        self.fault = fault

    def create_app(self, db):
        return add_fault(super().create_app(db), self.fault)
