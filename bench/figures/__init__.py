"""The five benchmark figures, one module each; every module has ``NUMBER``, ``NAME``, ``TITLE`` and
``run(ctx) -> dict`` (the record built by :func:`bench.figures.support.result`)."""

from bench.figures import fuzz_overhead, marker_scan, pr_scan, sweep_rate, world_seeding

FIGURES = (fuzz_overhead, sweep_rate, world_seeding, marker_scan, pr_scan)
