"""``pytest --harness-replay ID``: one finding of the last scan replayed as a test, no file needed.

Each ID is looked up in ``--harness-reports``/findings.json; the test fails while the finding still
reproduces on a fresh world from the same seed (the same check as ``reports/repro/test_<id>.py``).
"""

import json
from pathlib import Path

import pytest


def test_replay(harness_replay, harness_replay_id, pytestconfig):
    reports = Path(pytestconfig.getoption("harness_reports"))
    path = reports / "findings.json"
    if not path.is_file():
        pytest.fail(f"{path} does not exist: run a scan first, or pass --harness-reports DIR", pytrace=False)
    doc = json.loads(path.read_text())
    finding = next((f for f in doc.get("findings", []) if f["id"] == harness_replay_id), None)
    if finding is None:
        pytest.fail(f"no finding {harness_replay_id} in {path}", pytrace=False)
    scenario = pytestconfig.getoption("harness_scenario") or doc["run"].get("scenario_path")
    harness_replay(finding, scenario=scenario)
