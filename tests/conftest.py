"""Shared fixtures: one embedded PostgreSQL per session, one seeded Phoenix template, cheap clones."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import psycopg
import pytest

from harness.world import write_tables

TEST_SEED = 7
_counter = itertools.count()


#: The longest tests, started first: under ``-n 2`` a scan of a minute picked up last leaves one worker idle.
LONGEST_FIRST = ("tests/test_bench_smoke.py", "tests/test_scan_phoenix.py", "tests/sql/test_root_cause.py",
                 "tests/harness/test_plugin_scan.py", "tests/release/test_release_gate.py",
                 "tests/shapes/test_crm_scan.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module is kept


@pytest.fixture(scope="session")
def pg_server(harness_server):
    """The session's PostgreSQL: the plugin's (one server for the project's tests and the isolation fixtures)."""
    return harness_server


@dataclass
class PhoenixDB:
    name: str
    admin_dsn: str
    app_dsn: str
    owner_dsn: str
    reporting_dsn: str
    dataset: object  # phoenix.seed.Dataset


def build_phoenix_database(server, name: str, seed: int = TEST_SEED, **world) -> PhoenixDB:
    """Create, install and seed a Phoenix database (faults in the environment apply to the install)."""
    from phoenix import install, seed as seeding

    admin = server.create_database(name)
    install.install(admin)
    dataset = seeding.generate(seed, **world)
    with psycopg.connect(admin, autocommit=False) as conn:
        write_tables(conn, dataset.tables)
    return PhoenixDB(name, admin, server.dsn(name, install.APP_ROLE, install.APP_PASSWORD),
                     server.dsn(name, install.OWNER_ROLE, install.OWNER_PASSWORD),
                     server.dsn(name, install.REPORTING_ROLE, install.REPORTING_PASSWORD), dataset)


@pytest.fixture(scope="session")
def phoenix_template(pg_server):
    env = os.environ.pop("PHOENIX_FAULTS", None)  # the template is always the clean install
    try:
        db = build_phoenix_database(pg_server, f"phoenix_tpl_{os.getpid()}")
    finally:
        if env is not None:
            os.environ["PHOENIX_FAULTS"] = env
    yield db
    pg_server.drop_database(db.name)


@pytest.fixture
def phoenix_db(pg_server, phoenix_template):
    """A fresh clone of the seeded template, dropped after the test: writes never leak between tests."""
    name = f"phoenix_t{os.getpid()}_{next(_counter)}"
    admin = pg_server.create_database(name, template=phoenix_template.name)
    from phoenix import install

    yield PhoenixDB(name, admin, pg_server.dsn(name, install.APP_ROLE, install.APP_PASSWORD),
                    pg_server.dsn(name, install.OWNER_ROLE, install.OWNER_PASSWORD),
                    pg_server.dsn(name, install.REPORTING_ROLE, install.REPORTING_PASSWORD), phoenix_template.dataset)
    pg_server.drop_database(name)
