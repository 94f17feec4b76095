"""The harness must never learn which planted faults are on: it only observes HTTP and SQL."""

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def test_nothing_under_harness_imports_phoenix_or_reads_the_fault_switch():
    offenders = []
    for path in HARNESS.rglob("*.py"):
        source = path.read_text()
        if "PHOENIX_FAULTS" in source:
            offenders.append(f"{path}: mentions PHOENIX_FAULTS")
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                names = [str(node.args[0].value)]
            offenders += [f"{path}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] == "phoenix"]
    assert offenders == []


def test_the_guard_itself_can_fail(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import phoenix.faults\n")
    tree = ast.parse(bad.read_text())
    assert any(isinstance(n, ast.Import) and n.names[0].name.startswith("phoenix") for n in ast.walk(tree))
