"""The pytest plugin (registered through ``pytest11``): options, parametrization, summary, reports.

It is inert unless a test asks for ``harness_pair``, ``harness_query`` or ``harness_scan`` (the scan
module in ``harness/scan/`` does). The campaign runs once per session, when the first of those is
parametrized, so the test ids can name every operation and principal:
``test_operation[GET /api/dashboard/projects][techcorp-east:admin]``; each test's verdict is the run
model's (:mod:`harness.scan.session`). Under ``pytest -n N`` the scan is divided between the workers
and the controller merges it (:mod:`harness.scan.xdist`).
"""

from __future__ import annotations

import pytest

from harness.fixtures import _harness_templates, harness_replay, harness_server, isolation, isolation_scenario  # noqa: F401
from harness.scan import xdist
from harness.scan.session import ScanSession, ScanTest

_KEY = pytest.StashKey[ScanSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "tenant isolation harness")
    group.addoption("--harness-scenario", metavar="PATH", help="scenario file (defines SCENARIO)")
    parser.addini("harness_scenario", "scenario file used when --harness-scenario is not given")
    group.addoption("--harness-seed", type=int, default=1, help="world seed (default 1)")
    group.addoption("--harness-profile", default="pr", help="pr | nightly | release (default pr)")
    group.addoption("--harness-db-url", metavar="DSN", help="PostgreSQL superuser DSN (default: "
                    "$HARNESS_DATABASE_URL, else testcontainers, else embedded)")
    group.addoption("--harness-base-url", metavar="URL", help="scan a live target at this URL")
    group.addoption("--harness-target-db-url", metavar="DSN",
                    help="the live target's database (superuser), for write isolation")
    group.addoption("--harness-reports", metavar="DIR", default="reports", help="report directory")
    group.addoption("--harness-verbose", action="store_true", help="print the campaign's progress")
    group.addoption("--harness-allow-writes", action="store_true", help="live: unsafe methods to a non-loopback host")
    group.addoption("--harness-target-host", metavar="HOST", help="live: confirm scanning this non-loopback host")
    group.addoption("--harness-concurrency", type=int, metavar="N", help="live: requests in flight (default 8)")
    group.addoption("--harness-rate", type=float, metavar="N", help="live: requests per second")
    group.addoption("--harness-timeout", type=float, metavar="S",
                    help="seconds one request may take, in-process too (default: the profile's, 10)")
    group.addoption("--harness-deadline", metavar="S", default=None,
                    help="seconds the whole scan may take (default: the profile's); then it stops, writes its "
                         "reports marked incomplete and exits 124")
    group.addoption("--harness-debug", action="store_true", help="print the traceback of a set-up error")
    group.addoption("--harness-replay", metavar="ID", action="append", default=[],
                    help="replay finding ID of the last scan (--harness-reports) as a test, instead of collecting "
                         "the given paths; repeatable")
    group.addoption("--harness-corpus", metavar="DIR", default=None,
                    help="regression corpus folder: its findings are replayed first, new ones added")
    group.addoption("--harness-shard", metavar="I/N", default=None,
                    help="scan only share I of N (1-based) of the operations and queries, divided "
                         "deterministically; merge the shards' reports with `tenant-harness merge`")
    group.addoption("--harness-waivers", metavar="FILE", default=None,
                    help="waivers file kept under version control (TOML [[waivers]] or JSON), added to the scenario's")
    group.addoption("--harness-phases", metavar="LIST", default=None,
                    help="comma list of phases to run (audit,replay,sweep,reports,fuzz,stateful,noninterference); "
                         "default: the profile's")


def _session(config: pytest.Config) -> ScanSession:
    if _KEY not in config.stash:
        config.stash[_KEY] = ScanSession(config)
    return config.stash[_KEY]


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("harness_replay", None):
        # ``pytest --harness-replay ID``: collect the replay test only, whatever the paths were.
        from pathlib import Path

        config.args[:] = [str(Path(__file__).with_name("scan") / "test_replay.py")]
        return
    session = _session(config)
    if xdist.is_controller(config) and session.scenario_path and _scan_requested(config):
        session.start_controller()


def _scan_requested(config: pytest.Config) -> bool:
    """Whether this run collects the scan module (a plain ``pytest -n 2`` of a project's own tests with a
    default ``harness_scenario`` must not seed a world it never scans)."""
    return any("test_isolation" in str(arg) or str(arg).rstrip("/").endswith(("harness/scan", "harness.scan"))
               for arg in config.args)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    _session(node.config).configure_node(node)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = set(metafunc.fixturenames)
    if "harness_replay_id" in names:
        ids = metafunc.config.getoption("harness_replay", None) or []
        metafunc.parametrize("harness_replay_id", ids, ids=ids)
        return
    wanted = [(fixture, function) for fixture, function in (("harness_pair", "test_operation"),
                                                           ("harness_query", "test_query"),
                                                           ("harness_scan", "test_scan")) if fixture in names]
    if not wanted:
        return
    session = _session(metafunc.config)
    model = session.collect()
    for fixture, function in wanted:
        tests = [t for t in model.tests if t.function == function] if model is not None else []
        metafunc.parametrize(fixture, [ScanTest(session, t.name) for t in tests], ids=[t.id for t in tests])


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """After a set-up error nothing of the scan runs: the session ends with its one line (see finish)."""
    scan = config.stash.get(_KEY, None)
    if scan is not None and scan.error:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    scan = config.stash.get(_KEY, None)
    model = scan.model() if scan is not None and (scan.ran or scan.controller) else None
    if model is None:
        return
    from harness.report import render_terminal

    terminalreporter.write_sep("=", "tenant isolation")
    for line in render_terminal(model).splitlines():
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    scan = session.config.stash.get(_KEY, None)
    if scan is not None and (scan.ran or scan.controller or scan.error):
        scan.finish(session)


def pytest_unconfigure(config: pytest.Config) -> None:
    scan = config.stash.get(_KEY, None)
    if scan is not None:
        scan.close()
