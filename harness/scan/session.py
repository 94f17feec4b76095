"""One scan inside one pytest session: run once, judged once, asked by every test.

The campaign runs when pytest first parametrizes a scan test (the operations become known only
then); each test then asks the run model for its own verdict (:class:`ScanTest`), so pytest fails
exactly where the model, and so every report, says. Set-up problems (scenario, database, target,
login, options) become one line on stderr and exit code 2 at the end of the session instead of
pytest's collection-error block; a harness bug is one line too (exit 3), with the traceback only
under ``--harness-debug``. A run stopped by its deadline still writes its reports, marked
incomplete, and exits 124; one stopped by SIGTERM/SIGINT writes them too and exits 143/130.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import model as m
from harness import signals
from harness.errors import HarnessError
from harness.scan import options as scan_options
from harness.scan import output, xdist

PROG = "tenant-harness"
EXIT_USAGE, EXIT_INTERNAL, EXIT_INCOMPLETE = 2, 3, 124


@dataclass
class ScanTest:
    """One parametrized scan test: its verdict is the run model's."""

    session: "ScanSession"
    name: str

    def check(self) -> None:
        test = self.session.verdict(self.name)
        if test.outcome == m.FAILED:
            pytest.fail(test.message, pytrace=False)
        if test.outcome == m.SKIPPED:
            pytest.skip(test.message)


class ScanSession:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.error: str | None = None
        self.code = EXIT_USAGE
        self.trace: str | None = None
        self.doc: dict | None = None  # the run's document (serial), or this worker's share (raw)
        self._model: m.RunModel | None = None
        self.controller: xdist.Controller | None = None
        self.ran = False

    # -- options ------------------------------------------------------------------------------------
    @property
    def scenario_path(self) -> str | None:
        return self.config.getoption("harness_scenario") or self.config.getini("harness_scenario") or None

    @property
    def out(self) -> Path:
        return Path(self.config.getoption("harness_reports"))

    def options(self, **extra):
        from harness.campaign import Options

        get = self.config.getoption
        extra.setdefault("db_url", get("harness_db_url"))
        return Options(seed=get("harness_seed"), profile=get("harness_profile"),
                       base_url=get("harness_base_url"), target_db_url=get("harness_target_db_url"),
                       verbose=get("harness_verbose"), log=_progress(self.config),
                       phases=scan_options.phases(get("harness_phases")),
                       previous=str(self.out / "findings.json"),
                       deadline=scan_options.seconds(get("harness_deadline"), "--deadline"),
                       allow_writes=get("harness_allow_writes"), target_host=get("harness_target_host"),
                       concurrency=get("harness_concurrency"), rate=get("harness_rate"),
                       timeout=scan_options.seconds(get("harness_timeout"), "--timeout"),
                       waivers_file=get("harness_waivers"), corpus=get("harness_corpus"),
                       **{"shard": scan_options.shard(get("harness_shard")), **extra})

    def scenario(self):
        from harness.scenario import load_scenario

        if not self.scenario_path:
            raise HarnessError("no scenario: pass --harness-scenario PATH or set harness_scenario in the ini file")
        return load_scenario(self.scenario_path)

    # -- errors ---------------------------------------------------------------------------------------
    def fail(self, exc: BaseException) -> None:
        """Record a set-up error (one line) or a harness bug (one line, exit 3) instead of raising it."""
        if self.error is not None:
            return
        self.trace = "".join(traceback.format_exception(exc))
        if isinstance(exc, HarnessError):
            self.error, self.code = " ".join(str(exc).split()) or type(exc).__name__, EXIT_USAGE
        else:
            self.error = (f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                          "(rerun with --debug for the traceback, and please report it)")
            self.code = EXIT_INTERNAL

    # -- the controller of an xdist run ---------------------------------------------------------------
    def start_controller(self) -> None:
        """One database and one seeded template for every worker; on error, fall back to a serial session
        so that the error is reported the one-line way."""
        try:
            scenario = self.scenario()
            opt = self.options()
            output.check_writable(self.out)
            self.controller = xdist.Controller()
            self.controller.start(scenario, opt.seed, opt.db_url, live=bool(opt.base_url or scenario.base_url))
        except Exception as exc:
            self.fail(exc)
            self.config.option.dist = "no"  # report it from this process, before any worker starts
            self.config.option.tx = []

    def configure_node(self, node) -> None:
        if self.controller is not None and self.controller.shared is not None:
            node.workerinput[xdist.KEY] = xdist.serialise(self.controller.shared)

    # -- the scan ---------------------------------------------------------------------------------------
    def collect(self) -> m.RunModel | None:
        """Run the campaign (once): the whole run, or this worker's share. None after an error."""
        if self.ran:
            return None if self.error else self._ids_model()
        self.ran = True
        if self.error:
            return None
        from harness.campaign import Campaign

        worker = xdist.is_worker(self.config)
        index, count, shared = xdist.worker_share(self.config) if worker else (0, 1, None)
        campaign = None
        try:
            scenario = self.scenario()
            extra = {}
            if worker and shared is not None:
                if shared.db_url:
                    extra.update(db_url=shared.db_url, template_db=shared.template)
                if count > 1:
                    extra["shard"] = (index, count)
            opt = self.options(**extra)
            if not worker:
                output.check_writable(self.out)
            signals.install()  # SIGTERM/SIGINT unwind the run: databases dropped, partial reports written
            campaign = Campaign(scenario, opt)
            campaign.scenario_path = str(self.scenario_path)
            campaign.reports_dir = str(self.out)  # the reproduce line must find findings.json there
            self.doc = campaign.run()
        except KeyboardInterrupt:
            self.doc = getattr(campaign, "partial", None)
            raise
        except Exception as exc:
            self.fail(exc)
        finally:
            if worker and shared is not None:
                xdist.write_share(shared.dir, index, self.doc, self.error, self.code if self.error else None)
        return None if self.error else self._ids_model()

    def _ids_model(self) -> m.RunModel:
        """The model whose tests are collected: the run's, or (a worker) its share's, which names the same
        operations, queries and principals as every other share."""
        return m.from_document(self.doc)

    def model(self) -> m.RunModel | None:
        """The judged run: this process's document, or the merge of every worker's share."""
        if self._model is None:
            shared = self._shared()
            if shared is not None:
                directory, count = shared
                docs, error, code = xdist.read_shares(directory, count)
                if error and not self.error:
                    self.error, self.code = error, code or EXIT_USAGE
                if docs:
                    self._model = m.from_document(m.merge(docs))
            elif self.doc is not None:
                self._model = m.from_document(self.doc)
        return self._model

    def _shared(self) -> tuple[str, int] | None:
        if xdist.is_worker(self.config):
            _, count, shared = xdist.worker_share(self.config)
            return (shared.dir, count) if shared is not None else None
        if self.controller is not None and self.controller.shared is not None:
            return self.controller.shared.dir, len(self.config.getoption("tx") or [])
        return None

    def verdict(self, name: str) -> m.Test:
        model = self.model()
        if model is None:
            return m.Test("", name, m.FAILED, f"{PROG}: error: {self.error or 'the scan produced no result'}")
        for test in model.tests:
            if test.name == name:
                return test
        return m.Test("", name, m.FAILED, f"{name} is not a test of this scan's model")

    # -- the end ------------------------------------------------------------------------------------------
    def finish(self, session: pytest.Session) -> None:
        """Reports (serial run or controller), then the one line and the exit code that matter."""
        if xdist.is_worker(self.config):
            return
        model = self.model()
        note = None
        if model is not None:
            with signals.deferred():  # a second signal must not cut the reports in half
                _, note = output.write(model, self.out)
        if self.error:
            if self.config.getoption("harness_debug") and self.trace:
                sys.stderr.write(self.trace)
            sys.stderr.write(f"{PROG}: error: {self.error}\n")
            session.exitstatus = self.code
        elif note:
            sys.stderr.write(f"{PROG}: error: {note}\n")
            session.exitstatus = EXIT_USAGE
        elif signals.received():
            session.exitstatus = 128 + signals.received()
        elif model is not None and model.incomplete:
            session.exitstatus = EXIT_INCOMPLETE
        sys.stderr.flush()

    def close(self) -> None:
        if self.controller is not None:
            self.controller.close()
            self.controller = None


def _progress(config: pytest.Config):
    """Progress lines on the terminal, past pytest's capture (the campaign runs during collection)."""
    import contextlib

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)
            reporter.flush()
    return write
