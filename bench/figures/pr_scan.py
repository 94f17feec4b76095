"""Figure 5: a full ``pr`` scan of Phoenix at ~5 and ~20 tenants, and how time and requests grow.

Each scan is the real ``Campaign(...).run()`` (world, template, sweep, fuzz, reports, twins) on the
bench's database server. Per-phase times come from the campaign's own verbose log (``[harness] phase
sweep: N requests … (T s)``), captured rather than printed, so the campaign need not change.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
from unittest import mock

from bench.figures.support import Context, clock, measure, result
from harness.campaign import Campaign, Options
from harness.profiles import PROFILES

NUMBER, NAME = 5, "pr_scan"
TITLE = "Full `pr` scan of Phoenix: wall time at ~20 tenants vs ~5 tenants"
_PHASE = re.compile(r"^\[harness\] (?:phase (\w+): (\d+) requests.*|(world|template|\d+ operations).*)\(([\d.]+)s\)$")


def run(ctx: Context) -> dict:
    sizes = [(1, 1), (2, 1)] if ctx.quick else [(5, 1), (5, 4)]
    small, large = (scan(ctx, clients, subsidiaries) for clients, subsidiaries in sizes)
    time_growth = large["seconds"] / small["seconds"]
    return result(
        NUMBER, NAME, TITLE,
        measure(large["seconds"], "s", f"{large['tenants']} tenants, {large['requests_per_s']:.0f} req/s"),
        measure(small["seconds"], "s", f"{small['tenants']} tenants, {small['requests_per_s']:.0f} req/s"),
        time_growth, f"time growth from {small['tenants']} to {large['tenants']} tenants",
        small=small, large=large,
        growth={"time": round(time_growth, 2), "requests": round(large["requests"] / small["requests"], 2),
                "tenants": round(large["tenants"] / small["tenants"], 2),
                "principals": round(large["principals"] / small["principals"], 2)},
        note="wall time measured around Campaign.run(); phases parsed from its verbose log")


def scan(ctx: Context, clients: int, subsidiaries: int, depth: bool | None = None) -> dict:
    """One clean ``pr`` scan of Phoenix at this size; ``depth=False`` is the scan before issue 12 (the
    default: on, off in ``--quick``, where a figure's shape is checked, not its cost)."""
    from scenarios.phoenix import PhoenixScenario

    depth = not ctx.quick if depth is None else depth
    log = io.StringIO()
    pr = dataclasses.replace(PROFILES["pr"], depth=depth)
    with _clean_env(), contextlib.redirect_stderr(log), mock.patch.dict(PROFILES, {"pr": pr}):
        scenario = PhoenixScenario(clients=clients, subsidiaries=subsidiaries)
        t = clock()
        doc = Campaign(scenario, Options(seed=ctx.seed, profile="pr", db_url=ctx.server.admin_dsn,
                                         verbose=True, phases=ctx.scan_phases)).run()
        seconds = clock() - t
    run_ = doc["run"]
    return {"clients": clients, "subsidiaries": subsidiaries, "tenants": clients * subsidiaries,
            "principals": len(run_["principals"]), "operations": len(run_["operations"]),
            "queries": len(run_["queries"]), "requests": run_["requests"], "seconds": round(seconds, 2),
            "requests_per_s": round(run_["requests"] / seconds, 1), "findings": len(doc["findings"]), "depth": depth,
            "phases": phases(log.getvalue())}


def phases(log: str) -> dict:
    """Seconds (and requests) per phase from the campaign's verbose log."""
    out = {}
    for line in log.splitlines():
        m = _PHASE.match(line.strip())
        if not m:
            continue
        if m.group(1):
            out[m.group(1)] = {"seconds": float(m.group(4)), "requests": int(m.group(2))}
        else:
            key = "generation" if m.group(3).endswith("operations") else m.group(3)
            out[key] = {"seconds": float(m.group(4))}
    return out


@contextlib.contextmanager
def _clean_env():
    """The clean build at the requested size: no planted fault, no size override from the environment."""
    saved = {k: os.environ.pop(k) for k in ("PHOENIX_FAULTS", "PHOENIX_CLIENTS", "PHOENIX_SUBSIDIARIES")
             if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
