"""``python -m bench.run --quick``: every figure runs at a tiny size and reports a well-formed record.

Benchmarks are not tests: nothing here looks at a timing or a ratio's value, only at the output's shape.
"""

import json

from bench import run as bench
from bench.figures import FIGURES


def test_quick_bench_writes_every_figure_as_a_ratio_against_a_baseline(pg_server, tmp_path, capsys):
    code = bench.main(["--quick", "--out", str(tmp_path), "--db-url", pg_server.admin_dsn, "--timeout", "90"])
    doc = json.loads((tmp_path / "bench.json").read_text())
    errors = {f["name"]: f["error"] for f in doc["figures"] if "error" in f}
    assert not errors and code == 0, errors
    assert doc["quick"] is True and doc["date"]
    assert {"cores", "cpu", "python"} <= doc["machine"].keys()
    assert [f["figure"] for f in doc["figures"]] == [f.NUMBER for f in FIGURES] == list(range(1, len(FIGURES) + 1))
    for figure in doc["figures"]:
        for side in ("measured", "baseline"):
            assert figure[side]["value"] > 0 and figure[side]["unit"] and figure[side]["label"]
        assert figure["ratio"] > 0 and figure["ratio_means"]
        assert figure["goal"] is None or figure["goal_met"] in (True, False)
        assert figure["details"]
    table = capsys.readouterr().out
    assert "| figure | measured | baseline | ratio | goal |" in table
    assert all(f"| {f['figure']}. {f['name']} |" in table for f in doc["figures"])
