"""The scan's pytest test module lives here so that ``tenant-harness scan`` works for any scenario."""

from pathlib import Path

TEST_MODULE = Path(__file__).with_name("test_isolation.py")
