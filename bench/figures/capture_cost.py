"""Figure 8: what root cause in SQL (issue 17) costs: the clean ``pr`` scan of Phoenix with statement
capture and without.

The same scan in one process, on the same server and world, with the profile's ``capture`` switched
off (the baseline) and on: the statement log for the run's database, one marker round trip after every
request and in-database query run, each distinct statement analysed once with pglast, the inventory
and the latent check at the end. The scans alternate (off, on, on, off) so that load from other
processes on a shared machine hits both sides alike; each side is the sum of its runs. Goal: at most 1.3.

The scans run on an embedded server started in this process, as ``make scan`` runs: its log is the
harness's to read. A figure's process is given the bench's server by DSN, where pg_stat_statements
is the only source (as for an xdist worker or ``--db-url``): that mode is measured once more on the
shared server and reported beside the figure (``counters_only``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from unittest import mock

from bench.figures.pr_scan import scan
from bench.figures.support import Context, measure, result
from harness.profiles import PROFILES

NUMBER, NAME = 8, "capture_cost"
TITLE = "Clean `pr` scan of Phoenix with statement capture (root cause in SQL) vs without"
GOAL = 1.3


def run(ctx: Context) -> dict:
    clients, subsidiaries = (1, 1) if ctx.quick else (2, 2)
    sides: dict[bool, list[dict]] = {False: [], True: []}
    with _own_server(ctx) as (here, source):
        for capture in ((False, True) if ctx.quick else (False, True, True, False)):
            sides[capture].append(_scan(here, clients, subsidiaries, capture))
    counters_only = None if ctx.quick else _scan(ctx, clients, subsidiaries, True)
    off, on = (sum(r["seconds"] for r in sides[c]) for c in (False, True))
    ratio = on / off
    requests = sides[True][0]["requests"]
    per_request = (on - off) / len(sides[True]) / max(requests, 1) * 1e3
    return result(
        NUMBER, NAME, TITLE,
        measure(on / len(sides[True]), "s", f"capture on, {requests:,} requests"),
        measure(off / len(sides[False]), "s", f"capture off, {sides[False][0]['requests']:,} requests"),
        ratio, "wall time with capture / without", f"<= {GOAL}", ratio <= GOAL,
        world=f"{clients} clients x {subsidiaries} subsidiaries", source=source,
        runs={"on": sides[True], "off": sides[False]}, ms_per_request=round(per_request, 3),
        counters_only=counters_only and {
            "seconds": counters_only["seconds"],
            "ratio": round(counters_only["seconds"] / (off / len(sides[False])), 3),
            "note": "capture with pg_stat_statements alone (the bench's shared server, given by DSN) vs the "
                    "baseline above"},
        note="both scans clean (findings must be 0 on each side); scans alternate off, on, on, off")


def _scan(ctx: Context, clients: int, subsidiaries: int, capture: bool) -> dict:
    with mock.patch.dict(PROFILES, {"pr": dataclasses.replace(PROFILES["pr"], capture=capture)}):
        return scan(ctx, clients, subsidiaries)


@contextlib.contextmanager
def _own_server(ctx: Context):
    """An embedded server started in this process (its statement log readable), else the shared one."""
    try:
        from harness.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres().start()
    except Exception as exc:  # no binaries here: the shared server, counters only
        yield ctx, f"the shared server (no embedded server: {type(exc).__name__})"
        return
    try:
        yield dataclasses.replace(ctx, server=server), "an embedded server of this process (statement log)"
    finally:
        server.stop()
