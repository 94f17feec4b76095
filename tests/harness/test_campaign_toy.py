"""The whole campaign against a non-Phoenix app: clean gives nothing, an IDOR is found by the sweep."""

from harness.campaign import Campaign, Options

from tests.harness.toyapp import ToyScenario


def run(pg_server, leaky: bool, seed: int = 3, **options) -> dict:
    return Campaign(ToyScenario(leaky), Options(seed=seed, db_url=pg_server.admin_dsn, **options)).run()


def test_clean_toy_app_has_no_findings_and_full_coverage(pg_server):
    doc = run(pg_server, leaky=False)
    assert doc["findings"] == []
    assert {r["status"] for r in doc["coverage"]} == {"covered"}
    assert len(doc["coverage"]) == 3 * 2
    assert doc["summary"]["ok"]


def test_idor_in_toy_app_is_found_by_the_sweep(pg_server):
    doc = run(pg_server, leaky=True)
    kinds = {(f["kind"], f["operation"], f["phase"]) for f in doc["findings"]}
    assert ("foreign-row", "GET /notes/{note_id}", "sweep") in kinds
    victims = {f["victim_tenant"] for f in doc["findings"]}
    assert victims <= {"aardvark", "bumblebee"} and victims
    first = doc["findings"][0]
    assert first["curl"].startswith("curl ") and "Bearer $TOKEN" in first["curl"]
    assert len({f["id"] for f in doc["findings"] if f["operation"] == "GET /notes/{note_id}" and f["principal"] == "aardvark:user"}) == 1
    assert "»" in first["evidence"]


def test_stateful_phase_reads_an_object_created_during_the_run_as_another_tenant(pg_server):
    """Create as A, read as B: found with the fresh object's id, which no seeded row carries."""
    doc = run(pg_server, leaky=True, phases=("stateful",))
    seeded = {str(r["id"]) for r in ToyScenario().generate_world(3).tables["notes"]}
    hits = [f for f in doc["findings"] if f["phase"] == "stateful" and f["operation"] == "GET /notes/{note_id}"]
    assert hits, doc["findings"]
    for f in hits:
        fresh = f["request"]["url"].rsplit("/", 1)[1]
        assert fresh not in seeded and fresh in f["evidence"]
    assert "phase sweep: not selected" in doc["run"]["skipped"]


def test_stateful_phase_on_the_clean_toy_app_finds_nothing(pg_server):
    doc = run(pg_server, leaky=False, profile="nightly")
    assert doc["findings"] == [] and doc["summary"]["ok"]


def test_the_previous_runs_findings_are_replayed_first(pg_server, tmp_path):
    import json

    first = run(pg_server, leaky=True, phases=("sweep",))
    previous = tmp_path / "findings.json"
    previous.write_text(json.dumps(first))
    again = run(pg_server, leaky=True, phases=("replay",), previous=str(previous))
    replayed = {f["id"] for f in again["findings"] if f["phase"] == "replay"}
    assert replayed and replayed <= {f["id"] for f in first["findings"]}
    fixed = run(pg_server, leaky=False, phases=("replay",), previous=str(previous))
    assert fixed["findings"] == [] and fixed["run"]["requests"] >= len(replayed)
    other_seed = run(pg_server, leaky=True, seed=4, phases=("replay",), previous=str(previous))
    assert other_seed["run"]["requests"] == 0 and any("seeded with 3" in s for s in other_seed["run"]["skipped"])


def test_unknown_phase_is_a_clear_error():
    import pytest

    from harness.errors import HarnessError
    with pytest.raises(HarnessError, match="unknown phase.*bogus"):
        Campaign(ToyScenario(), Options(phases=("sweep", "bogus")))


def test_live_url_target_is_scanned_over_real_http(pg_server):
    """A live target: the harness never builds the app, it only sees HTTP and (for writes) the database."""
    import socket
    import threading
    import time

    import psycopg
    import uvicorn

    from harness.scenario import Database
    from harness.world import write_tables

    scenario = ToyScenario(leaky=True)
    world = scenario.generate_world(5)
    admin = pg_server.create_database("toy_live")
    try:
        scenario.install(admin)
        with psycopg.connect(admin) as conn:
            write_tables(conn, world.tables)
        app = scenario.create_app(Database("toy_live", admin, lambda *a: admin))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            doc = Campaign(scenario, Options(seed=5, base_url=f"http://127.0.0.1:{port}",
                                             target_db_url=admin)).run()
        finally:
            server.should_exit = True
            thread.join(10)
        assert doc["run"]["target"] == f"http://127.0.0.1:{port}"
        assert any(f["operation"] == "GET /notes/{note_id}" for f in doc["findings"])
        assert f"http://127.0.0.1:{port}/notes/" in doc["findings"][0]["curl"]
        assert doc["run"]["twins"], "live non-interference: the twin made through the API"
        assert not any(f["kind"] == "non-interference" for f in doc["findings"])
    finally:
        pg_server.drop_database("toy_live")
