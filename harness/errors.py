"""Errors that tell the user what failed and what to do next, in one line (no traceback wall)."""


class HarnessError(Exception):
    """A problem with the set-up, not a finding: the run cannot give a trustworthy answer."""


class DatabaseUnavailable(HarnessError):
    """No PostgreSQL could be reached or started."""


class ScenarioError(HarnessError):
    """The scenario is missing or inconsistent."""


class CoverageError(HarnessError):
    """Part of the target was never exercised: a pass would be vacuous."""
