"""``make selftest``: the detection matrix. Does the harness find every planted fault, and nothing else?

Runs the ``pr`` scan against the clean Phoenix for each of 5 seeds, then once per planted fault (each
alone). Detection is judged only from the findings the scan produced, matched against the fault's
*documented* operations or reports (``phoenix.faults.REGISTRY[...].affects``), never from the switch:
a scan that fails for an unrelated reason does not count as a detection. Last, determinism: the first
seed's scan with every fault on, twice; the two runs must give the same finding ids (and it says how
many evidence lines differ: values the app itself draws at random, such as a created row's UUID).
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
    parser.add_argument("--determinism-only", action="store_true",
                        help="only the two all-faults scans of the first seed, compared")
    args = parser.parse_args(argv)
    from phoenix import faults as catalogue

    catalogue.parse("")  # loads the registry
    names = [n for n in args.faults.split(",") if n] or sorted(catalogue.REGISTRY)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows, clean = [], []
    if args.determinism_only:
        seeds, names = seeds[:1], []
    with provide_server() as server:
        for seed in seeds if not args.determinism_only else ():
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
        same = determinism(seeds[0], server.admin_dsn, args.profile)
    print(same["line"], flush=True)
    detected = sum(r["detected"] for r in rows)
    false_positives = sum(c["findings"] for c in clean)
    verdict = f"detected {detected}/{len(rows)} faults, {false_positives} false positives on {len(clean)} clean seeds"
    verdict += f"; {same['verdict']}"
    measured = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = (f"Measured {measured} on {machine}, profile `{args.profile}`: **{verdict}**.\n\n"
             + render(rows, clean) + "\n" + same["line"] + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "detection.json").write_text(json.dumps({
        "measured": measured, "machine": machine, "verdict": verdict,
        "profile": args.profile, "faults": rows, "clean": clean,
        "determinism": {k: v for k, v in same.items() if k != "line"}}, indent=2))
    (out / "detection.md").write_text(table)
    print(table)
    print(verdict)
    return 0 if detected == len(rows) and not false_positives and same["identical"] else 1


def determinism(seed: int, db_url: str, profile: str) -> dict:
    """The same seed twice with every fault on: the finding ids must be the same, run after run."""
    runs = []
    for _ in range(2):
        with faults_env("all"):
            doc = scan(seed, db_url, profile)
        runs.append({f["id"]: f for f in doc["findings"]})
    first, second = runs
    described = {i: f"{i} ({f['phase']} {f['kind']} {f['operation']} {f['locus']})"
                 for run in (second, first) for i, f in run.items()}
    differ = [described[i] for i in sorted(set(first) ^ set(second))]
    evidence = sorted(described[i] for i in set(first) & set(second) if first[i]["evidence"] != second[i]["evidence"])
    identical = not differ
    verdict = (f"same seed twice: {'identical' if identical else 'DIFFERENT'} finding ids "
               f"({len(first)} and {len(second)}{'' if identical else f', {len(differ)} differ'})")
    line = (f"Determinism: seed {seed} with every fault on, scanned twice: {len(first)} and {len(second)} "
            f"findings, {'identical ids' if identical else f'{len(differ)} ids differ: ' + ', '.join(differ[:10])}; "
            f"{len(evidence)} evidence line(s) differ.")
    return {"seed": seed, "identical": identical, "findings": [len(first), len(second)], "ids_differ": differ,
            "evidence_differs": evidence, "verdict": verdict, "line": line}


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
