"""Figure 7: the faulty Phoenix ``pr`` scan divided between two xdist workers vs the same scan serial.

``PHOENIX_FAULTS=all``, same seed, same server: ``tenant-harness scan`` once as one process and once with
``-- -n 2`` (one template seeded by the controller, each worker on its own clone with its share of the
operations and queries, one merged set of reports). The ratio is the divided run's wall time over the
serial one's; the finding ids of both are compared (a divided run can miss findings that are only the
consequence of another share's cross-tenant write, see README "Reliability").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.figures.support import Context, clock, measure, result

NUMBER, NAME = 7, "xdist_scan"
TITLE = "Faulty Phoenix `pr` scan with `pytest -n 2` vs serial (same seed): wall time, finding ids"
ROOT = Path(__file__).resolve().parents[2]


def scan(ctx: Context, out: Path, workers: int, clients: int, subsidiaries: int) -> dict:
    env = {**os.environ, "PHOENIX_FAULTS": "all", "PHOENIX_CLIENTS": str(clients),
           "PHOENIX_SUBSIDIARIES": str(subsidiaries)}
    argv = [sys.executable, "-m", "harness.cli", "scan", "--scenario", "scenarios/phoenix.py", "--seed",
            str(ctx.seed), "--db-url", ctx.server.admin_dsn, "--out", str(out), "-q"]
    argv += ["--phases", ",".join(ctx.scan_phases)] if ctx.scan_phases else []
    argv += ["--", "-n", str(workers)] if workers else []
    started = clock()
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = clock() - started
    if not (out / "findings.json").is_file():
        raise RuntimeError(f"the scan wrote no findings.json (exit {run.returncode}): {run.stderr[-500:]}")
    doc = json.loads((out / "findings.json").read_text())
    return {"seconds": round(seconds, 2), "exit": run.returncode, "requests": doc["run"]["requests"],
            "findings": sorted(f["id"] for f in doc["findings"]), "tests": doc["summary"]["tests"]}


def run(ctx: Context) -> dict:
    clients, subsidiaries = (1, 2) if ctx.quick else (2, 3)  # quick: pass --timeout 600 (two scans)
    with tempfile.TemporaryDirectory() as tmp:
        serial = scan(ctx, Path(tmp) / "serial", 0, clients, subsidiaries)
        divided = scan(ctx, Path(tmp) / "xdist", 2, clients, subsidiaries)
    a, b = set(serial.pop("findings")), set(divided.pop("findings"))
    return result(
        NUMBER, NAME, TITLE,
        measure(divided["seconds"], "s", f"pytest -n 2, {len(b)} findings"),
        measure(serial["seconds"], "s", f"serial, {len(a)} findings"),
        divided["seconds"] / serial["seconds"], "wall time with -n 2 / serial",
        serial=serial, divided=divided, world=f"{clients} clients x {subsidiaries} subsidiaries",
        same_findings=a == b, common=len(a & b), only_serial=sorted(a - b), only_divided=sorted(b - a))
