"""``make selftest``: the detection matrix. Does the harness find every planted fault, and nothing else?

Runs the ``pr`` scan against the clean Phoenix for each of 5 seeds, then once per planted fault (each
alone). Detection is judged only from the findings the scan produced, matched against the fault's
*documented* operations or reports (``phoenix.faults.REGISTRY[...].affects``), never from the switch:
a scan that fails for an unrelated reason does not count as a detection.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

from harness.campaign import Campaign, Options
from harness.db import provide_server

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "phoenix.py"
CLEAN_SEEDS = (1, 2, 3, 4, 5)


@contextlib.contextmanager
def faults_env(value: str):
    old = os.environ.get("PHOENIX_FAULTS")
    os.environ["PHOENIX_FAULTS"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PHOENIX_FAULTS", None)
        else:
            os.environ["PHOENIX_FAULTS"] = old


def scan(seed: int, db_url: str, profile: str) -> dict:
    from harness.scenario import load_scenario

    campaign = Campaign(load_scenario(SCENARIO), Options(seed=seed, profile=profile, db_url=db_url))
    return campaign.run()


def matches(finding: dict, affects: tuple[str, ...]) -> bool:
    """Whether a finding lands on one of the fault's documented operations or reports."""
    operation, url = finding["operation"], (finding.get("request") or {}).get("url", "")
    for target in affects:
        if target.startswith("report:"):
            name = target[len("report:"):]
            if operation == f"query {name}" or url.rstrip("/").endswith(f"/reports/{name}"):
                return True
        elif operation == target:
            return True
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="selftest")
    parser.add_argument("--out", default="reports")
    parser.add_argument("--profile", default="pr")
    parser.add_argument("--faults", default="", help="comma list (default: the whole catalogue)")
    parser.add_argument("--seeds", default=",".join(map(str, CLEAN_SEEDS)))
    args = parser.parse_args(argv)
    from phoenix import faults as catalogue

    catalogue.parse("")  # loads the registry
    names = [n for n in args.faults.split(",") if n] or sorted(catalogue.REGISTRY)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows, clean = [], []
    with provide_server() as server:
        for seed in seeds:
            t = time.monotonic()
            with faults_env(""):
                doc = scan(seed, server.admin_dsn, args.profile)
            clean.append({"seed": seed, "findings": len(doc["findings"]), "problems": doc["summary"]["problems"],
                          "seconds": round(time.monotonic() - t, 1), "requests": doc["run"]["requests"],
                          "ids": [f["id"] for f in doc["findings"]]})
            print(f"clean seed {seed}: {len(doc['findings'])} findings, {len(doc['summary']['problems'])} "
                  f"coverage problems, {doc['run']['requests']} requests, {time.monotonic() - t:.1f}s", flush=True)
        for name in names:
            fault = catalogue.REGISTRY[name]
            t = time.monotonic()
            with faults_env(name):
                doc = scan(seeds[0], server.admin_dsn, args.profile)
            hits = [f for f in doc["findings"] if matches(f, fault.affects)]
            first = min(hits, key=lambda f: f["requests_before"]) if hits else None
            rows.append({"fault": name, "class": fault.cls, "detected": bool(hits),
                         "oracle": first["oracle"] if first else None, "phase": first["phase"] if first else None,
                         "requests_to_first": first["requests_before"] if first else None,
                         "seconds_to_first": first["seconds"] if first else None,
                         "findings": len(doc["findings"]), "matching": len(hits),
                         "scan_seconds": round(time.monotonic() - t, 1)})
            print(f"{name}: {'DETECTED' if hits else 'MISSED'} "
                  f"({len(hits)}/{len(doc['findings'])} findings on its operations)", flush=True)
    detected = sum(r["detected"] for r in rows)
    false_positives = sum(c["findings"] for c in clean)
    verdict = f"detected {detected}/{len(rows)} faults, {false_positives} false positives on {len(clean)} clean seeds"
    measured = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = (f"Measured {measured} on {machine}, profile `{args.profile}`: **{verdict}**.\n\n"
             + render(rows, clean))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "detection.json").write_text(json.dumps({
        "measured": measured, "machine": machine, "verdict": verdict,
        "profile": args.profile, "faults": rows, "clean": clean}, indent=2))
    (out / "detection.md").write_text(table)
    print(table)
    print(verdict)
    return 0 if detected == len(rows) and not false_positives else 1


def render(rows: list[dict], clean: list[dict]) -> str:
    lines = ["| fault | class | detected | oracle | phase | requests to first | seconds to first |",
             "|---|---|---|---|---|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['fault']}` | {r['class']} | {'yes' if r['detected'] else '**no**'} | "
                     f"{r['oracle'] or '-'} | {r['phase'] or '-'} | {r['requests_to_first'] if r['detected'] else '-'} | "
                     f"{r['seconds_to_first'] if r['detected'] else '-'} |")
    lines.append("")
    lines.append("| clean seed | findings | coverage problems | requests | seconds |")
    lines.append("|---:|---:|---:|---:|---:|")
    for c in clean:
        lines.append(f"| {c['seed']} | {c['findings']} | {len(c['problems'])} | {c['requests']} | {c['seconds']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
