"""``tenant-harness reproduce ID``: rebuild the same world from the seed and replay one finding.

The finding's request is deterministic given the seed (the ids in it were seeded), so a developer gets
the same leak on a laptop with one command, without the rest of the scan: in-process, on a throwaway
clone of the world, judged by the checks that found it (:meth:`harness.testing.Isolation.replay`); on a
live target (``--base-url``), by a scan of that one operation that re-creates what it needs through the
API. Exit 1 while the leak is there, 0 once it is gone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import HarnessError


def load_finding(reports: Path, finding_id: str) -> tuple[dict, dict]:
    path = reports / "findings.json"
    if not path.is_file():
        raise HarnessError(f"{path} does not exist: run a scan first, or pass --reports DIR")
    doc = json.loads(path.read_text())
    for f in doc.get("findings", []):
        if f["id"] == finding_id:
            return f, doc
    known = ", ".join(f["id"] for f in doc.get("findings", [])[:10]) or "none"
    raise HarnessError(f"no finding {finding_id} in {path} (known: {known})")


def register(subparsers) -> None:
    p = subparsers.add_parser("reproduce", help="replay one finding from reports/findings.json on a fresh world")
    p.add_argument("finding_id", metavar="ID")
    p.add_argument("--scenario", required=True, metavar="PATH")
    p.add_argument("--seed", type=int, default=None, help="default: the seed of the run that found it")
    p.add_argument("--reports", default="reports", metavar="DIR")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN")
    p.add_argument("--base-url", metavar="URL", help="a live target: re-create what the finding needs through its "
                                                     "API (sign-ups, seeding) and send that operation's probes again")
    p.add_argument("--allow-writes", action="store_true", help="live: unsafe methods to a non-loopback target")
    p.add_argument("--target-host", metavar="HOST", help="live: confirm this non-loopback host")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.scenario import load_scenario

    finding, doc = load_finding(Path(args.reports), args.finding_id)
    seed = args.seed if args.seed is not None else doc["run"]["seed"]
    scenario = load_scenario(args.scenario)
    print(f"replaying {finding['id']}: {finding['kind']} on {finding['operation']} as {finding['principal']} "
          f"(seed {seed})")
    if finding.get("curl"):
        print(f"  {finding['curl']}")
    base_url = args.base_url or getattr(scenario, "base_url", None)
    if base_url:
        reproduced, lines = live(scenario, finding, seed, base_url, args)
    else:
        reproduced, lines = in_process(scenario, finding, seed, args.db_url)
    for line in lines:
        print(f"  {line}")
    if not reproduced:
        print(f"  not reproduced: {finding['id']} did not occur (fixed, or it needs the scan's earlier requests)")
        return 0
    return 1


def in_process(scenario, finding: dict, seed: int, db_url: str | None) -> tuple[bool, list[str]]:
    """The same world from the seed on a throwaway template, the request sent again (harness.testing)."""
    import os

    from harness.db import provide_server
    from harness.testing import Isolation
    from harness.world import seed_template

    with provide_server(db_url) as server:
        template = f"threpro{os.getpid()}_{seed}_tpl"
        seed_template(server, scenario, scenario.generate_world(seed), template)
        try:
            with Isolation(scenario, seed, server=server, template=template) as iso:
                result = iso.replay(finding)
        finally:
            server.drop_database(template)
    lines = [f"answered {result.status if result.status is not None else 'nothing'}"]
    lines += [f"{'REPRODUCED' if f['id'] == finding['id'] else 'also'} {f['id']} {f['kind']} → "
              f"{f.get('victim_tenant') or finding.get('victim_tenant', '?')}: {f['evidence']}" for f in result.seen]
    return result.reproduced, lines


def live(scenario, finding: dict, seed: int, base_url: str, args) -> tuple[bool, list[str]]:
    """A live target keeps no world of the harness's: a scan of the finding's one operation re-creates
    what it needs (fresh sign-ups, objects seeded through the API) and sends its probes again; finding
    ids are stable across runs, so the same bug gives the same id."""
    from harness.campaign import Campaign
    from harness.context import Options

    phase = finding.get("phase") if finding.get("phase") in ("sweep", "fuzz", "stateful", "noninterference") else "sweep"
    doc = Campaign(scenario, Options(seed=seed, base_url=base_url, phases=(phase,), focus=(finding["operation"],),
                                     allow_writes=args.allow_writes, target_host=args.target_host)).run()
    same = [f for f in doc["findings"] if f["id"] == finding["id"]]
    lines = [f"{'REPRODUCED' if f['id'] == finding['id'] else 'also'} {f['id']} {f['kind']} → {f['victim_tenant']}: "
             f"{f['evidence']}" for f in doc["findings"]]
    return bool(same), lines or [f"{doc['run']['requests']} requests to {finding['operation']}, no finding"]
