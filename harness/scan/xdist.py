"""``pytest -n N``: one scan divided between the workers, one set of reports from the controller.

The controller starts (or reaches) one PostgreSQL and seeds the world's template once, then hands
each worker the DSN, the template and a shared directory. Each worker scans its share of the
operations and queries (:mod:`harness.partition`, whole resources, on its own clone of the template)
and writes its raw document there at the end of its collection. xdist schedules no test before every
worker has collected, so by the first test every share is on disk: workers judge their tests, and
the controller writes the reports, from the same merge (:func:`harness.model.merge`) of the same
shares, so verdicts and reports agree with each other and with a serial run.

Every phase is divided by operation (or query): the sweep, fuzz and replay send only their share's
operations; the reports phase runs its share's queries; non-interference clones its own base and
twins (deterministic from the seed) and compares only its share, which divides the costliest phase;
the stateful phase creates through its share's create operations and attacks every consumer of
what it made, whoever's share that consumer is (coverage and findings merge); the database audit
runs on the first worker only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

KEY = "tenant_harness"


@dataclass
class Shared:
    db_url: str | None  # None for a live target: the workers share the target itself
    template: str | None
    dir: str


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config) -> bool:
    return (not is_worker(config) and config.pluginmanager.hasplugin("xdist")
            and config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None)))


def serialise(shared: Shared) -> str:
    return json.dumps(asdict(shared))


def worker_share(config) -> tuple[int, int, Shared | None]:
    """(index, count, what the controller shared) of this worker."""
    inp = config.workerinput
    index = int(str(inp.get("workerid", "gw0")).removeprefix("gw") or 0)
    shared = json.loads(inp[KEY]) if inp.get(KEY) else None
    return index, int(inp.get("workercount", 1)), Shared(**shared) if shared else None


class Controller:
    """The controller's set-up: one server, one seeded template, one shared directory."""

    def __init__(self):
        self.stack = contextlib.ExitStack()
        self.shared: Shared | None = None

    def start(self, scenario, seed: int, db_url: str | None, live: bool = False) -> Shared:
        from harness.db import provide_server
        from harness.world import seed_template

        directory = tempfile.mkdtemp(prefix="tenant-harness-xdist-")
        self.stack.callback(shutil.rmtree, directory, True)
        if live:
            self.shared = Shared(None, None, directory)
            return self.shared
        server = self.stack.enter_context(provide_server(db_url))
        template = f"th{os.getpid()}_{seed}_xtpl"
        seed_template(server, scenario, scenario.generate_world(seed), template)
        self.stack.callback(server.drop_database, template)
        self.shared = Shared(server.admin_dsn, template, directory)
        return self.shared

    def close(self) -> None:
        self.stack.close()


def write_share(directory: str, index: int, doc: dict | None, error: str | None = None,
                code: int | None = None) -> None:
    """This worker's raw document (or its one-line error), written whole."""
    path = Path(directory) / f"share{index}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"doc": doc, "error": error, "code": code}, default=str))
    os.replace(tmp, path)


def read_shares(directory: str, count: int) -> tuple[list[dict], str | None, int | None]:
    """Every worker's document in share order, and the first error (a missing share is one)."""
    docs, error, code = [], None, None
    for i in range(count):
        path = Path(directory) / f"share{i}.json"
        if not path.is_file():
            error = error or f"worker gw{i} wrote no scan result (did it crash? rerun with -n 0 to see)"
            continue
        data = json.loads(path.read_text())
        if data.get("error") and error is None:
            error, code = data["error"], data.get("code")
        if data.get("doc"):
            docs.append(data["doc"])
    return docs, error, code
