"""``tenant-harness reproduce ID``: rebuild the same world from the seed and replay one finding.

The finding's request is deterministic given the seed (the ids in it were seeded), so a developer gets
the same leak on a laptop with one command, without the rest of the scan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import psycopg

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


async def _replay(ctx, finding: dict):
    from harness.coverage import Coverage
    from harness.exchange import Exchange
    from harness.fuzz.operations import load_operations
    from harness.fuzz.probes import probe_from_request
    from harness.oracles import foreign_rows
    from harness.oracles.write_isolation import ChangeLog
    from harness.target import Target
    from harness.world import seed_template

    tag = f"threpro_{ctx.opt.seed}"
    names = []
    try:
        names.append(f"{tag}_tpl")
        seed_template(ctx.server, ctx.scenario, ctx.world, f"{tag}_tpl")
        ctx.server.create_database(f"{tag}_run", template=f"{tag}_tpl")
        names.append(f"{tag}_run")
        db = ctx.database(f"{tag}_run")
        target = await Target(ctx.scenario, app=ctx.scenario.create_app(db)).start()
        principal = next((p for p in ctx.principals if p.name == finding["principal"]), None)
        if principal is None:
            raise HarnessError(f"principal {finding['principal']} is not in the scenario")
        client = await target.login(principal)
        operations = load_operations(await target.spec())
        probe = probe_from_request(finding, operations)
        async with await psycopg.AsyncConnection.connect(db.admin_dsn, autocommit=True) as conn:
            digests = ChangeLog(conn, ctx.world.tenant_columns)
            await digests.start()
            ex = Exchange(ctx.index, ctx.ids, Coverage([], [], set()), ctx.slugs, ctx.opt.seed, digests)
            ex.checks.append(foreign_rows.url_check(operations))  # as the scan: a Location naming a foreign object
            response = await ex.send(client, principal, probe, "replay")
        await target.close()
        return response, list(ex.findings.values())
    finally:
        for name in reversed(names):
            ctx.server.drop_database(name)


def register(subparsers) -> None:
    p = subparsers.add_parser("reproduce", help="replay one finding from reports/findings.json on a fresh world")
    p.add_argument("finding_id", metavar="ID")
    p.add_argument("--scenario", required=True, metavar="PATH")
    p.add_argument("--seed", type=int, default=None, help="default: the seed of the run that found it")
    p.add_argument("--reports", default="reports", metavar="DIR")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.context import Options, RunContext
    from harness.db import provide_server
    from harness.scenario import load_scenario

    finding, doc = load_finding(Path(args.reports), args.finding_id)
    if finding["kind"] == "non-interference" or finding["request"] is None or finding["request"]["method"] == "QUERY":
        raise HarnessError(f"{finding['id']} is a {finding['kind']} finding on {finding['operation']}: replay it "
                           f"with a scan (`tenant-harness scan --scenario {args.scenario} --seed {doc['run']['seed']}`)")
    seed = args.seed if args.seed is not None else doc["run"]["seed"]
    ctx = RunContext.prepare(load_scenario(args.scenario), Options(seed=seed))
    print(f"replaying {finding['id']}: {finding['request']['method']} {finding['request']['url']} "
          f"as {finding['principal']} (seed {seed})")
    print(f"  {finding['curl']}")
    with provide_server(args.db_url) as server:
        ctx.server = server
        response, findings = asyncio.run(_replay(ctx, finding))
    print(f"  answered {response.status_code if response is not None else 'nothing'}")
    same = [f for f in findings if f.id == finding["id"]]
    for f in findings:
        print(f"  {'REPRODUCED' if f.id == finding['id'] else 'also'} {f.id} {f.kind} → {f.victim_tenant}: {f.evidence}")
    if not same:
        print(f"  not reproduced: {finding['id']} did not occur (fixed, or it needs the scan's earlier requests)")
        return 0
    return 1
