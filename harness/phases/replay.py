"""Phase ``replay``: the previous run's findings first, so a fix (or a regression) shows in seconds."""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import HarnessError
from harness.fuzz.probes import probe_from_request


async def run(ctx) -> None:
    path = Path(ctx.opt.previous) if ctx.opt.previous else None
    if path is None or not path.is_file():
        return
    try:
        doc = json.loads(path.read_text())
    except ValueError:
        ctx.skipped.append(f"replay: {path} is not valid JSON")
        return
    if doc.get("run", {}).get("seed") != ctx.opt.seed:
        ctx.skipped.append(f"replay: {path} was seeded with {doc.get('run', {}).get('seed')}, not {ctx.opt.seed}")
        return
    principals = {p.name: p for p in ctx.principals}
    for f in doc.get("findings", []):
        request, p = f.get("request") or {}, principals.get(f.get("principal"))
        if p is None or request.get("method") in (None, "QUERY") or f.get("kind") == "non-interference":
            continue
        try:
            probe = probe_from_request(f, ctx.operations)
        except HarnessError:
            continue  # the operation left the spec
        await ctx.exchange.send(ctx.target.clients[p.name], p, probe, "replay")
