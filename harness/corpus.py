"""A regression corpus: known findings kept under version control, replayed first on every run.

``--corpus DIR`` names a folder of findings, one JSON file per finding (``TH-….json``, the finding as
``findings.json`` has it, trimmed to what replaying needs). Every run replays the corpus first (the
``replay`` phase, for findings of the run's seed: their requests name that world's objects), so a
fixed leak that comes back fails in the first seconds; and every new finding of the run is added, so
the folder grows into the project's memory of its leaks. A finding of the corpus that no longer
reproduces stays until someone deletes its file: a fix is a change a reviewer should see.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import HarnessError

#: What the corpus keeps of a finding.
KEEP = ("id", "kind", "oracle", "phase", "operation", "query", "principal", "role", "victim_tenant", "seed",
        "locus", "status", "request", "evidence", "title", "severity")


def load(directory, seed: int) -> tuple[list[dict], list[str]]:
    """(findings of ``seed`` to replay, lines about the others) from the corpus folder."""
    folder = Path(directory)
    if not folder.is_dir():
        return [], []
    found, skipped = [], []
    for path in sorted(folder.glob("TH-*.json")):
        try:
            finding = json.loads(path.read_text())
        except ValueError:
            raise HarnessError(f"corpus file {path} is not valid JSON: fix or delete it") from None
        if finding.get("seed") != seed:
            skipped.append(f"corpus: {path.name} was found with seed {finding.get('seed')}, not {seed}: not replayed")
            continue
        found.append(finding)
    return found, skipped


def update(directory, findings: list[dict]) -> list[str]:
    """Add every finding not yet in the corpus (waived ones too: a waiver can expire); returns their ids."""
    folder = Path(directory)
    added = []
    for f in findings:
        if f.get("severity", "error") == "note" or not f.get("request"):
            continue
        path = folder / f"{f['id']}.json"
        if path.exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: f[k] for k in KEEP if f.get(k) not in (None, "")}, indent=2,
                                   sort_keys=True, ensure_ascii=False, default=str) + "\n")
        added.append(f["id"])
    return added
