"""The harness must never learn which planted faults are on: it only observes HTTP and SQL."""

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def offenders(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*.py"):
        source = path.read_text()
        if "PHOENIX_FAULTS" in source:
            found.append(f"{path}: mentions PHOENIX_FAULTS")
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                names = [str(node.args[0].value)]
            found += [f"{path}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] == "phoenix"]
    return found


def test_nothing_under_harness_imports_phoenix_or_reads_the_fault_switch():
    assert offenders(HARNESS) == []


def test_the_guard_catches_each_way_of_peeking(tmp_path):
    (tmp_path / "a.py").write_text("import phoenix.faults\n")
    (tmp_path / "b.py").write_text("from phoenix import faults\n")
    (tmp_path / "c.py").write_text("import importlib\nimportlib.import_module('phoenix.app')\n")
    (tmp_path / "d.py").write_text("import os\nos.environ.get('PHOENIX_FAULTS')\n")
    assert len(offenders(tmp_path)) == 4
