"""README's generated blocks match their source, so the documented catalogue cannot drift."""

from bench.readme import ROOT, block
from phoenix.__main__ import fault_markdown


def test_readme_fault_catalogue_matches_the_registry():
    documented = block((ROOT / "README.md").read_text(), "faults")
    assert documented == fault_markdown(), "README's fault catalogue is stale: run `make readme`"


def test_readme_carries_a_measured_selftest_table():
    table = block((ROOT / "README.md").read_text(), "selftest")
    assert "faults detected" in table or "detected" in table
