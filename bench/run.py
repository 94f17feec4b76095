"""``make bench``: the benchmark figures, each a ratio against a baseline measured in this process.

    python -m bench.run --out reports            # full sizes (several minutes)
    python -m bench.run --quick --only 3,4       # tiny sizes, some figures

Prints a table and writes ``<out>/bench.json`` (date, machine, and every figure's values). Benchmarks
are not tests: a missed goal is reported, not failed; only a figure that could not run fails the command.
Each figure runs in its own process (sharing one database server) with a time limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench.figures import FIGURES
from bench.figures.support import Context
from harness.db import ExternalServer, provide_server


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


def select(only: str | None) -> list:
    if not only:
        return list(FIGURES)
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    chosen = [f for f in FIGURES if str(f.NUMBER) in wanted or f.NAME in wanted]
    unknown = wanted - {str(f.NUMBER) for f in chosen} - {f.NAME for f in chosen}
    if unknown:
        raise SystemExit(f"unknown figure(s) {', '.join(sorted(unknown))}: choose from "
                         + ", ".join(f"{f.NUMBER}={f.NAME}" for f in FIGURES))
    return chosen


RESULT = "BENCH-RESULT "


def run_figures(figures, ctx: Context, timeout: float) -> list[dict]:
    """Each figure in its own process, with a time limit: a hung or crashed target costs one figure, not the run."""
    out = []
    for figure in figures:
        print(f"[bench] figure {figure.NUMBER} {figure.NAME} …", file=sys.stderr, flush=True)
        t = time.monotonic()
        record = _child(figure, ctx, timeout)
        record["seconds"] = round(time.monotonic() - t, 2)
        print(f"[bench] figure {figure.NUMBER} done in {record['seconds']}s"
              + (f": ERROR {record['error']}" if "error" in record else ""), file=sys.stderr, flush=True)
        out.append(record)
    return out


def _failed(figure, error: str, detail: str = "") -> dict:
    return {"figure": figure.NUMBER, "name": figure.NAME, "title": figure.TITLE, "error": error[:500],
            "traceback": detail[-2000:]}


def _child(figure, ctx: Context, timeout: float) -> dict:
    argv = [sys.executable, "-m", "bench.run", "--child", figure.NAME, "--db-url", ctx.server.admin_dsn,
            "--seed", str(ctx.seed)] + (["--quick"] if ctx.quick else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return _failed(figure, f"timed out after {timeout:.0f}s")
    line = next((ln for ln in reversed(stdout.splitlines()) if ln.startswith(RESULT)), None)
    if line is None:
        return _failed(figure, f"the figure's process exited with {proc.returncode} and no result", stdout)
    return json.loads(line[len(RESULT):])


def child(name: str, ctx: Context) -> int:
    """Run one figure here and print its record as one line (what :func:`_child` reads)."""
    figure = next(f for f in FIGURES if f.NAME == name)
    try:
        record = figure.run(ctx)
    except Exception as exc:
        record = _failed(figure, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8))
    print(RESULT + json.dumps(record, default=str), flush=True)
    # Skip interpreter shutdown: a target that left tasks or threads behind must not hang the figure.
    os._exit(0)


def _cell(m: dict) -> str:
    value = m["value"]
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {m['unit']} ({m['label']})"


def table(records: list[dict]) -> str:
    lines = ["| figure | measured | baseline | ratio | goal |", "|---|---|---|---:|---|"]
    for r in records:
        name = f"{r['figure']}. {r['name']}"
        if "error" in r:
            lines.append(f"| {name} | ERROR: {r['error'][:80]} | - | - | - |")
            continue
        goal = "-" if r["goal"] is None else f"{r['goal']} ({'met' if r['goal_met'] else 'NOT met'})"
        lines.append(f"| {name} | {_cell(r['measured'])} | {_cell(r['baseline'])} | {r['ratio']:.3g} | {goal} |")
    return "\n".join(lines)


def notes(records: list[dict]) -> list[str]:
    """Lines under the table: what each phase of the full scan costs, non-interference in particular."""
    out = []
    for r in records:
        if r.get("name") == "depth_cost" and "error" not in r:
            out.append(_depth_note(r["details"]))
        if r.get("name") != "pr_scan" or "error" in r:
            continue
        for size in ("small", "large"):
            scan = (r.get("details") or {}).get(size) or {}
            phases = scan.get("phases") or {}
            timed = {k: v["seconds"] for k, v in phases.items() if "requests" in v}
            if not timed:
                continue
            total = scan["seconds"]
            ni = timed.get("noninterference", 0.0)
            out.append(f"- {scan['tenants']} tenants, {scan['principals']} principals: "
                       + ", ".join(f"{k} {v:.1f}s" for k, v in timed.items())
                       + f" of {total:.1f}s; the non-interference oracle adds {ni:.1f}s "
                         f"({100 * ni / max(total - ni, 1e-9):.0f}% on top of the rest)")
    return out


def _depth_note(details: dict) -> str:
    """Where search depth's time goes: each phase's seconds and requests, without depth → with it."""
    off, on = details["off"], details["on"]
    phases = [k for k in on["phases"] if "requests" in on["phases"][k]]
    parts = []
    for k in phases:
        a, b = off["phases"].get(k, {"seconds": 0.0, "requests": 0}), on["phases"][k]
        parts.append(f"{k} {a['seconds']:.1f}s/{a['requests']} → {b['seconds']:.1f}s/{b['requests']}")
    return (f"- search depth, {on['tenants']} tenants, {on['principals']} principals (seconds/requests, off → on): "
            + ", ".join(parts) + f"; findings {off['findings']} → {on['findings']}")


def markdown(doc: dict, records: list[dict]) -> str:
    m = doc["machine"]
    head = (f"Measured {doc['date']} on {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
            f"database: {doc['database']}{' (quick sizes)' if doc['quick'] else ''}.")
    return "\n".join([head, "", table(records), ""] + notes(records)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for bench.json (default: reports)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: every figure in well under a minute")
    parser.add_argument("--only", help="comma list of figure numbers or names")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-url", help="superuser DSN of a PostgreSQL server (default: as the harness chooses)")
    parser.add_argument("--timeout", type=float, help="seconds allowed per figure (default: 120 quick, 900 full)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, Context(ExternalServer(args.db_url), args.quick, args.seed))
    figures = select(args.only)
    if os.environ.pop("PHOENIX_FAULTS", None):
        print("[bench] PHOENIX_FAULTS ignored: the figures measure the clean build", file=sys.stderr)
    started = dt.datetime.now(dt.timezone.utc)
    with provide_server(args.db_url) as server:
        records = run_figures(figures, Context(server, args.quick, args.seed),
                              args.timeout or (120 if args.quick else 900))
        database = server.kind
    doc = {"date": started.isoformat(timespec="seconds"), "machine": machine(), "quick": args.quick,
           "seed": args.seed, "database": database, "figures": records}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    (out / "bench.md").write_text(markdown(doc, records))
    print(markdown(doc, records))
    print(f"written {out / 'bench.json'}")
    return 1 if any("error" in r for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
