"""Phase ``replay``: the previous run's findings and the regression corpus first, so a fix (or a
regression) shows in seconds."""

from __future__ import annotations

import json
from pathlib import Path

from harness import corpus
from harness.errors import HarnessError
from harness.fuzz.probes import probe_from_request


async def run(ctx) -> None:
    findings = _previous(ctx)
    if getattr(ctx.opt, "corpus", None):
        known, skipped = corpus.load(ctx.opt.corpus, ctx.opt.seed)
        ctx.skipped += skipped
        seen = {f.get("id") for f in findings}
        findings += [f for f in known if f.get("id") not in seen]
        ctx.log(f"corpus: {len(known)} known finding(s) to replay from {ctx.opt.corpus}")
    principals = {p.name: p for p in ctx.principals}
    for f in findings:
        request, p = f.get("request") or {}, principals.get(f.get("principal"))
        if p is None or request.get("method") in (None, "QUERY") or f.get("kind") == "non-interference":
            continue
        try:
            probe = probe_from_request(f, ctx.operations)
        except HarnessError:
            continue  # the operation left the spec
        await ctx.exchange.send(ctx.target.clients[p.name], p, probe, "replay")


def _previous(ctx) -> list[dict]:
    """The findings of the previous run in the same report folder (same seed only)."""
    path = Path(ctx.opt.previous) if ctx.opt.previous else None
    if path is None or not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text())
    except ValueError:
        ctx.skipped.append(f"replay: {path} is not valid JSON")
        return []
    if doc.get("run", {}).get("seed") != ctx.opt.seed:
        ctx.skipped.append(f"replay: {path} was seeded with {doc.get('run', {}).get('seed')}, not {ctx.opt.seed}")
        return []
    return list(doc.get("findings", []))
