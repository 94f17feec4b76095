"""Scenario file for the plugin tests: the toy app, clean."""
from tests.harness.toyapp import ToyScenario

SCENARIO = ToyScenario(leaky=False)
