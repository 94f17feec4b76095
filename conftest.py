"""This repository's pytest wiring, and the example to copy into yours.

The tenant-isolation plugin registers itself when the package is installed (entry point ``pytest11``):
it brings the ``--harness-*`` options, the scan as tests (``harness/scan/test_isolation.py``, one test
per operation × principal) and fixtures for isolation tests written by hand (``isolation``,
``harness_replay``, ``harness_server``; see ``harness/fixtures.py``). All a repository has to add is
which scenario it scans; this one scans Phoenix, the reference target::

    pytest                                   # the project's own tests (testpaths = tests)
    pytest harness/scan/test_isolation.py    # the isolation scan of the default scenario
    pytest --harness-replay TH-1a2b3c4d5e    # one finding of the last scan, replayed as a test
    pytest reports/repro/                    # the regression tests the last scan wrote

In your repository, copy this file and point ``DEFAULT_SCENARIO`` at your scenario (a Python file or
a TOML one), or set ``harness_scenario`` in your ini file instead: ``--harness-scenario`` still wins.
Tests that ask for the ``isolation`` fixture then get your world, seeded once per session and cloned
per test, with every principal logged in.
"""

from pathlib import Path

import pytest

DEFAULT_SCENARIO = "scenarios/phoenix.py"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("harness_scenario", None) and not config.getini("harness_scenario"):
        config.option.harness_scenario = str(Path(__file__).parent / DEFAULT_SCENARIO)
