"""``tenant-harness merge DIR...``: the shards of one scan (``--shard i/n`` on several CI jobs) as one.

Each shard's ``findings.json`` holds its share of the operations and queries (the others are marked
"scanned by another shard"); merged, findings join by id, coverage is summed pair by pair, and the run
is judged once, so the merged ``findings.json``, JUnit, SARIF, HTML and Markdown are what one unsharded
run of the same seed would have written. The shards must be the same scan (scenario, seed, profile)
and complete (every share once): a missing share would pass a scan that never looked at its part.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import HarnessError


def load(directories) -> list[dict]:
    """Every shard's document, checked to be the shares of one scan, in share order."""
    docs = []
    for directory in directories:
        path = Path(directory)
        path = path if path.suffix == ".json" else path / "findings.json"
        try:
            docs.append(json.loads(path.read_text()))
        except OSError as exc:
            raise HarnessError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise HarnessError(f"{path} is not a findings document (invalid JSON)") from None
    if not docs:
        raise HarnessError("merge: name the report folders of the shards (e.g. shard-1 shard-2)")
    same = {(d["run"].get("scenario"), d["run"].get("seed"), d["run"].get("profile")) for d in docs}
    if len(same) > 1:
        raise HarnessError(f"merge: these reports are not shards of one scan (scenario, seed, profile differ: "
                           f"{', '.join(map(str, sorted(same, key=str)))})")
    shards = [tuple(d["run"].get("shard") or ()) for d in docs]
    if any(not s for s in shards):
        raise HarnessError("merge: a report without --shard is a whole scan already; merge only shard reports")
    counts = {s[1] for s in shards}
    if len(counts) > 1:
        raise HarnessError(f"merge: shards of different divisions ({', '.join(f'/{n}' for n in sorted(counts))})")
    count = counts.pop()
    have = sorted(s[0] for s in shards)
    missing = [f"{i + 1}/{count}" for i in range(count) if i not in have]
    twice = sorted({f"{i + 1}/{count}" for i in have if have.count(i) > 1})
    if missing or twice:
        raise HarnessError(f"merge: shard(s) {', '.join(missing)} missing" if missing
                           else f"merge: shard(s) {', '.join(twice)} given twice")
    return [doc for _, doc in sorted(zip(shards, docs), key=lambda pair: pair[0][0])]


def register(subparsers) -> None:
    p = subparsers.add_parser("merge", help="merge the reports of a scan's shards (--shard i/n) into one",
                              description="Join the findings.json of every shard of one scan into one set of "
                                          "reports, judged as one run. Exit 0 only with zero findings and full "
                                          "coverage across the shards; 1 findings or gaps; 2 shards missing or "
                                          "not of one scan.")
    p.add_argument("reports", nargs="+", metavar="DIR", help="each shard's report folder (or its findings.json)")
    p.add_argument("--out", default="reports", metavar="DIR", help="where the merged reports go")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness import model
    from harness.report import render_terminal
    from harness.scan import output

    docs = load(args.reports)
    output.check_writable(args.out)
    merged = model.from_document(model.merge(docs))
    _, note = output.write(merged, args.out)
    print(render_terminal(merged))
    if note:
        raise HarnessError(note)
    return 0 if merged.ok else 1
