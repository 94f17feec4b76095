"""README's generated blocks match their source, so the documented catalogue cannot drift."""

from bench.readme import ROOT, block
from phoenix.__main__ import fault_markdown


def test_readme_fault_catalogue_matches_the_registry():
    documented = block((ROOT / "README.md").read_text(), "faults")
    assert documented == fault_markdown(), "README's fault catalogue is stale: run `make readme`"


def test_readme_carries_measured_selftest_and_bench_tables():
    readme = (ROOT / "README.md").read_text()
    selftest, bench = block(readme, "selftest"), block(readme, "bench")
    assert selftest.startswith("Measured ") and "false positives on 5 clean seeds" in selftest
    assert bench.startswith("Measured ") and "| 5. pr_scan |" in bench
