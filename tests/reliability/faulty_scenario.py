"""Scenario file for the reliability tests' command-line runs: the toy app with the fault named in
``HARNESS_TEST_FAULT`` (see tests/reliability/faulty.py)."""
import os

from tests.reliability.faulty import FaultyScenario

SCENARIO = FaultyScenario(os.environ.get("HARNESS_TEST_FAULT", "slow"))
