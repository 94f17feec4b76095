"""``reports/repro/test_<id>.py``: one self-contained regression test per finding.

Each file is an ordinary pytest test that rebuilds the scan's world from its seed (on a clone, through
the plugin's ``harness_replay`` fixture), sends the finding's request again as the same principal and
fails while the leak is there. A developer runs it while fixing (``pytest reports/repro/test_TH_….py``),
then moves it into the suite, where it guards against the regression. The finding is embedded, so the
test needs neither ``findings.json`` nor the report folder. In-process runs only: a live target keeps
no world of the harness's (use ``tenant-harness reproduce ID --base-url URL``).
"""

from __future__ import annotations

import json
import pprint

from harness.report.view import ReportView, describe, where

#: What a regression test needs of a finding (the rest is report text).
KEEP = ("id", "kind", "oracle", "phase", "operation", "query", "principal", "role", "victim_tenant", "seed",
        "locus", "status", "request")


def filename(finding_id: str) -> str:
    return f"test_{str(finding_id).replace('-', '_')}.py"


def render_repro(view: ReportView) -> dict[str, str]:
    """File name -> source of the regression test of every active finding (in-process runs only)."""
    run = view.run
    scenario_path = run.get("scenario_path")
    if not scenario_path or run.get("live"):
        return {}
    out = {}
    for f in view.findings:
        if not f.get("request") or f.get("subject") not in ("operation", "query"):
            continue
        out[filename(f["id"])] = _source(f, scenario_path)
    return out


def _source(f: dict, scenario_path: str) -> str:
    finding = {k: f[k] for k in KEEP if f.get(k) not in (None, "")}
    name = "test_" + str(f["id"]).replace("-", "_").lower() + "_is_fixed"
    literal = pprint.pformat(json.loads(json.dumps(finding, default=str)), width=100, sort_dicts=True)
    return f'''"""Regression test for {f["id"]} ({f["kind"]} on {where(f)}), written by tenant-harness.

{describe(f)}.
It fails while the leak is there and passes once it is fixed: run it while fixing, then move it into
the test suite. It rebuilds the scan's world from seed {f.get("seed")} (the plugin's ``harness_replay``
fixture) and judges the answer with the checks that found the leak.

    pytest {filename(f["id"])}
"""

SCENARIO = {scenario_path!r}  # relative to the pytest rootdir, as the scan was given it

FINDING = {literal}


def {name}(harness_replay):
    harness_replay(FINDING, scenario=SCENARIO)
'''
