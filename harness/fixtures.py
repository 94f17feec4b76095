"""Fixtures for isolation tests written by hand (registered by the plugin, so every test can ask).

- ``harness_server``: one PostgreSQL for the test session (``--harness-db-url``, else testcontainers
  or the embedded server, as a scan gets it), stopped at the end.
- ``isolation_scenario``: the scenario of ``--harness-scenario`` (or the ``harness_scenario`` ini option).
- ``isolation``: a :class:`harness.testing.Isolation` on a fresh clone of the world (seed
  ``--harness-seed``), every principal logged in; the world is seeded once per session and cloned per
  test, so a test's writes never reach the next one. A live scenario (``base_url``, ``--harness-base-url``)
  is served as it is.
- ``harness_replay``: ``harness_replay(finding, scenario=PATH)`` sends one finding of a scan again and
  fails the test while it still leaks: the body of the ``reports/repro/test_<id>.py`` tests a scan writes.

::

    def test_customers_stay_in_their_tenant(isolation):
        response = isolation.get("techcorp-east:user", "/api/dashboard/customers")
        assert response.status_code == 200
        isolation.assert_no_foreign_rows(response, "techcorp-east:user")
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from harness.errors import HarnessError


class _Templates:
    """Seeded templates of the session, one per (scenario file, seed): cloned, never re-seeded."""

    def __init__(self, server):
        self.server = server
        self.made: dict[tuple[str, int], tuple[object, str]] = {}

    def get(self, path: str, seed: int):
        from harness.scenario import load_scenario
        from harness.world import seed_template

        key = (str(Path(path).resolve()), seed)
        if key not in self.made:
            scenario = load_scenario(path)
            name = f"thfix{os.getpid()}_{len(self.made)}_{seed}"
            seed_template(self.server, scenario, scenario.generate_world(seed), name)
            self.made[key] = (scenario, name)
        return self.made[key]

    def close(self) -> None:
        for _, name in self.made.values():
            with contextlib.suppress(Exception):
                self.server.drop_database(name)


@pytest.fixture(scope="session")
def harness_server(pytestconfig):
    """The session's PostgreSQL (the same one every harness fixture clones from)."""
    from harness.db import provide_server

    with provide_server(pytestconfig.getoption("harness_db_url", None)) as server:
        yield server


@pytest.fixture(scope="session")
def _harness_templates(harness_server):
    templates = _Templates(harness_server)
    yield templates
    templates.close()


def _scenario_path(config) -> str:
    path = config.getoption("harness_scenario", None) or config.getini("harness_scenario")
    if not path:
        raise HarnessError("no scenario: pass --harness-scenario PATH or set harness_scenario in the ini file")
    return str(Path(config.rootpath, path)) if not Path(path).is_absolute() else path


@pytest.fixture(scope="session")
def isolation_scenario(pytestconfig):
    from harness.scenario import load_scenario

    return load_scenario(_scenario_path(pytestconfig))


@pytest.fixture
def isolation(request, pytestconfig):
    """A seeded world served to every principal, with the scan's oracles as assertions."""
    from harness.scenario import load_scenario
    from harness.testing import Isolation

    path, seed = _scenario_path(pytestconfig), pytestconfig.getoption("harness_seed", 1)
    base_url = pytestconfig.getoption("harness_base_url", None) or getattr(load_scenario(path), "base_url", None)
    if base_url:
        with Isolation(load_scenario(path), seed, base_url=base_url) as iso:
            yield iso
        return
    scenario, template = request.getfixturevalue("_harness_templates").get(path, seed)
    with Isolation(scenario, seed, server=request.getfixturevalue("harness_server"), template=template) as iso:
        yield iso


@pytest.fixture
def harness_replay(request, pytestconfig):
    """``harness_replay(finding, scenario=PATH, seed=None)``: fail while ``finding`` (a dict of
    ``findings.json``) still reproduces; the scenario path is relative to the rootdir."""
    from harness.testing import Isolation

    def replay(finding: dict, scenario: str | None = None, seed: int | None = None):
        path = str(Path(pytestconfig.rootpath, scenario)) if scenario else _scenario_path(pytestconfig)
        seed = finding.get("seed", 1) if seed is None else seed
        loaded, template = request.getfixturevalue("_harness_templates").get(path, seed)
        with Isolation(loaded, seed, server=request.getfixturevalue("harness_server"), template=template) as iso:
            result = iso.replay(finding)
        if result.reproduced:
            pytest.fail(result.describe(), pytrace=False)
        return result

    return replay
