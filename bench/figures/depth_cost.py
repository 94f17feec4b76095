"""Figure 6: what search depth (issue 12) costs: the clean ``pr`` scan of Phoenix with it and without.

The same scan twice in one process, on the same server and world: the profile's ``depth`` switched off
(the baseline: the scan as it was before systematic values, pages, body references, report enum
values, the existence and reference oracles, V(P) twins with headers and writes) and on. The ratio
on/off is the price of finding what lies one step beyond the obvious; the goal is at most 1.5.
"""

from __future__ import annotations

from bench.figures.pr_scan import scan
from bench.figures.support import Context, measure, result

NUMBER, NAME = 6, "depth_cost"
TITLE = "Clean `pr` scan of Phoenix with search depth vs without (the scan before issue 12)"
GOAL = 1.5


def run(ctx: Context) -> dict:
    clients, subsidiaries = (1, 1) if ctx.quick else (2, 3)  # 2 x 3: Phoenix's default world
    off = scan(ctx, clients, subsidiaries, depth=False)
    on = scan(ctx, clients, subsidiaries, depth=True)
    ratio = on["seconds"] / off["seconds"]
    return result(
        NUMBER, NAME, TITLE,
        measure(on["seconds"], "s", f"depth on, {on['requests']:,} requests"),
        measure(off["seconds"], "s", f"depth off, {off['requests']:,} requests"),
        ratio, "wall time with depth / without", f"<= {GOAL}", ratio <= GOAL,
        off=off, on=on, note="both scans clean: findings must be 0 on each side")
