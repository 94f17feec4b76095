"""The pytest plugin (registered through ``pytest11``): options, parametrization, summary, reports.

It is inert unless a test asks for ``harness_pair``, ``harness_query`` or ``harness_scan`` (the scan
module in ``harness/scan/`` does). The campaign runs once per session, when the first of those is
parametrized, so the test ids can name every operation and principal:
``test_operation[GET /api/dashboard/projects][techcorp-east:admin]``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.errors import HarnessError

_KEY = pytest.StashKey[dict]()


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
    group.addoption("--harness-phases", metavar="LIST", default=None,
                    help="comma list of phases to run (audit,replay,sweep,reports,fuzz,stateful,noninterference); "
                         "default: the profile's")


def _campaign_doc(config: pytest.Config) -> dict:
    if _KEY in config.stash:
        return config.stash[_KEY]
    from harness.campaign import Campaign, Options
    from harness.scenario import load_scenario

    path = config.getoption("harness_scenario") or config.getini("harness_scenario")
    try:
        if not path:
            raise HarnessError("no scenario: pass --harness-scenario PATH or set harness_scenario in the ini file")
        scenario = load_scenario(path)
        campaign = Campaign(scenario, Options(
            seed=config.getoption("harness_seed"), profile=config.getoption("harness_profile"),
            db_url=config.getoption("harness_db_url"), base_url=config.getoption("harness_base_url"),
            target_db_url=config.getoption("harness_target_db_url"),
            verbose=config.getoption("harness_verbose"), log=_progress(config),
            phases=_phases(config.getoption("harness_phases")),
            previous=str(Path(config.getoption("harness_reports")) / "findings.json")))
        campaign.scenario_path = str(path)
        doc = campaign.run()
    except HarnessError as exc:
        raise pytest.UsageError(f"tenant-harness: {' '.join(str(exc).split())}") from None
    config.stash[_KEY] = doc
    return doc


def _phases(value: str | None) -> tuple[str, ...] | None:
    return tuple(p.strip() for p in value.split(",") if p.strip()) if value else None


def _progress(config: pytest.Config):
    """Progress lines on the terminal, past pytest's capture (the campaign runs during collection)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)
            reporter.flush()
    return write


@dataclass
class PairResult:
    operation: str
    principal: str
    coverage: dict
    findings: list

    def check(self) -> None:
        if self.findings:
            lines = [f"{f['id']} {f['kind']} → victim {f['victim_tenant']}: {f['evidence']}\n    {f['curl']}"
                     for f in self.findings]
            pytest.fail(f"{len(self.findings)} isolation finding(s):\n" + "\n".join(lines), pytrace=False)
        if self.coverage.get("status") == "uncovered":
            pytest.fail(f"not covered: {self.coverage.get('reason')}", pytrace=False)


@dataclass
class ScanResult:
    doc: dict

    def check(self) -> None:
        s = self.doc["summary"]
        unattached = [f for f in self.doc["findings"] if f["operation"] not in self.doc["run"]["operations"]
                      and not f["operation"].startswith("query ")]
        problems = [p for p in s["problems"] if not p.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE "))
                    and not p.startswith("query ")]
        if unattached:
            audit = [f for f in unattached if f["kind"] == "db-audit"]
            other = [f for f in unattached if f["kind"] != "db-audit"]
            lines = ([f"database audit: {len(audit)} issue(s)"] if audit else []) + [
                f"{f['id']} {f['operation']}: {f['evidence']}" for f in audit]
            if other:
                lines += ["findings outside the spec's operations:"] + [
                    f"{f['id']} {f['operation']} as {f['principal']}: {f['evidence']}" for f in other]
            pytest.fail("\n".join(lines), pytrace=False)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if not {"harness_pair", "harness_query", "harness_scan"} & set(names):
        return
    doc = _campaign_doc(metafunc.config)
    if "harness_pair" in names:
        by_pair: dict[tuple[str, str], list] = {}
        for f in doc["findings"]:
            by_pair.setdefault((f["operation"], f["principal"]), []).append(f)
        values, ids = [], []
        for row in doc["coverage"]:
            key = (row["operation"], row["principal"])
            values.append(PairResult(*key, row, by_pair.get(key, [])))
            ids.append(f"{key[0]}][{key[1]}")
        metafunc.parametrize("harness_pair", values, ids=ids)
    if "harness_query" in names:
        by_query: dict[tuple[str, str], list] = {}
        for f in doc["findings"]:
            if f["operation"].startswith("query "):
                by_query.setdefault((f["operation"][6:], f["principal"]), []).append(f)
        values, ids = [], []
        for row in doc["queries"]:
            key = (row["query"], row["principal"])
            values.append(PairResult(f"query {key[0]}", key[1], {"status": "covered"}, by_query.get(key, [])))
            ids.append(f"{key[0]}][{key[1]}")
        if not values:
            metafunc.parametrize("harness_query", [pytest.param(None, marks=pytest.mark.skip(
                reason="the scenario declares no reporting queries"))], ids=["no-queries"])
        else:
            metafunc.parametrize("harness_query", values, ids=ids)
    if "harness_scan" in names:
        metafunc.parametrize("harness_scan", [ScanResult(doc)], ids=["summary"])


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if _KEY not in config.stash:
        return
    from harness.report import render_terminal

    terminalreporter.write_sep("=", "tenant isolation")
    for line in render_terminal(config.stash[_KEY]).splitlines():
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    config = session.config
    if _KEY not in config.stash:
        return
    from harness.report import write_reports

    out = Path(config.getoption("harness_reports"))
    out.mkdir(parents=True, exist_ok=True)
    write_reports(config.stash[_KEY], out)
