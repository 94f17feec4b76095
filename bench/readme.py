"""``make readme``: regenerate README's generated blocks from their single source.

A block sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``. ``faults`` comes from the fault
registry (``python -m phoenix faults --markdown``); ``selftest`` and ``bench`` from
``reports/detection.md`` and ``reports/bench.md`` when ``make selftest`` / ``make bench`` wrote them. ``tests/test_readme.py`` fails when the faults block has drifted.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def block(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    if not match:
        raise SystemExit(f"README.md has no <!-- {name}:start --> … <!-- {name}:end --> block")
    return match.group(1).rstrip("\n")


def splice(text: str, name: str, content: str) -> str:
    block(text, name)  # the markers must exist
    return re.sub(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
                  lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    from phoenix.__main__ import fault_markdown

    readme = ROOT / "README.md"
    text = splice(readme.read_text(), "faults", fault_markdown())
    for name, source in (("selftest", "detection.md"), ("bench", "bench.md")):
        path = ROOT / "reports" / source
        if path.exists():
            text = splice(text, name, path.read_text())
    readme.write_text(text)
    print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
