"""Scenario file for the plugin tests: the toy app with its IDOR."""
from tests.harness.toyapp import ToyScenario

SCENARIO = ToyScenario(leaky=True)
