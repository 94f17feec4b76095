"""Scenario file for the sign-off test: the toy app with two leaks (an IDOR, a sign-up writing into another tenant)."""
from tests.harness.toyapp import ToyScenario

SCENARIO = ToyScenario(leaky=True, signup="leaky")
