"""The benchmark figures, one module each; every module has ``NUMBER``, ``NAME``, ``TITLE`` and
``run(ctx) -> dict`` (the record built by :func:`bench.figures.support.result`)."""

from bench.figures import (capture_cost, depth_cost, fuzz_overhead, live_rate, marker_scan, pr_scan, sweep_rate,
                           world_seeding, xdist_scan)

FIGURES = (fuzz_overhead, sweep_rate, world_seeding, marker_scan, pr_scan, depth_cost, xdist_scan, capture_cost,
           live_rate)
