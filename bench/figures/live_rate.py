"""Figure 9: a live scan's request rate vs a plain concurrent httpx loop of the same requests.

Boards (``examples/boards``) runs over uvicorn on loopback, on its own database. The harness scans it
live with its declarative scenario (sign-ups, API seeding, the sweep, 8 requests in flight); every
request the sweep sends is recorded as sent (credentials, method, URL, encoded body). The baseline then
sends exactly those requests to the same server, from a plain ``httpx.AsyncClient`` loop with the same 8
in flight and no oracle. The ratio is the harness's
sweep rate over the loop's: the price of the oracles, the ordering of a principal's writes and the
read-back of foreign objects.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from unittest import mock

import httpx

from bench.figures.support import Context, clock, measure, result
from harness import exchange as exchange_mod
from harness.campaign import Campaign, Options
from harness.scenario import load_scenario

NUMBER, NAME = 9, "live_rate"
TITLE = "Live scan (Boards over uvicorn, 8 in flight): harness sweep requests/s vs plain concurrent httpx"
GOAL = 0.8
SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "boards" / "scenario.toml"
IN_FLIGHT = 8
_dbs = itertools.count()


def run(ctx: Context) -> dict:
    from examples.boards.serve import running

    sent: list[tuple[dict, str, str, dict]] = []
    original = exchange_mod.Exchange.send

    async def recording(self, client, p, probe, phase, *args, **kwargs):
        response = await original(self, client, p, probe, phase, *args, **kwargs)
        if phase == "sweep" and response is not None:
            body = probe.body if probe.operation.has_body else None
            encoded = exchange_mod.encode_body(probe.operation, probe.encoding, body)
            sent.append((dict(client.headers), probe.operation.method, probe.url(), encoded))
        return response

    database = f"bench_live_{next(_dbs)}"
    ctx.server.create_database(database)
    try:
        with running(ctx.server.dsn(database)) as url:
            with mock.patch.object(exchange_mod.Exchange, "send", recording):
                doc = Campaign(load_scenario(SCENARIO), Options(seed=ctx.seed, base_url=url, phases=("sweep",),
                                                                concurrency=IN_FLIGHT)).run()
            plain_s = asyncio.run(_plain(url + "/api", sent))  # the same server: its accounts, its tokens
    finally:
        ctx.server.drop_database(database)
    sweep_s = float(doc["run"]["phase_seconds"].get("sweep") or 0) or 1e-9
    harness_rate = len(sent) / sweep_s
    plain_rate = len(sent) / plain_s
    ratio = harness_rate / plain_rate
    return result(NUMBER, NAME, TITLE,
                  measure(harness_rate, "req/s", f"harness sweep, {len(sent)} requests in {sweep_s:.2f}s"),
                  measure(plain_rate, "req/s", f"plain httpx, same requests in {plain_s:.2f}s"),
                  ratio, "harness request rate / plain concurrent loop's", f">= {GOAL}", ratio >= GOAL,
                  requests=len(sent), in_flight=IN_FLIGHT, findings=len(doc["findings"]),
                  note="the baseline's writes land on another database: the same requests, not the same answers")


async def _plain(api: str, sent) -> float:
    """Seconds for a plain loop to send ``sent`` with ``IN_FLIGHT`` at once (the credentials as recorded)."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        async def one(headers, method, url, encoded):
            async with slots:
                await client.request(method, url, headers=headers, **encoded)

        started = clock()
        await asyncio.gather(*(one(*request) for request in sent))
        return clock() - started
