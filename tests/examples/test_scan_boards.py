"""Boards scanned live (uvicorn on loopback) with nothing but ``examples/boards/scenario.toml``.

No seeding script, no world written by hand, no database access: principals sign up fresh every run,
log in through the OAuth2 form, and seed their objects through the API with canaries. Each leak the
harness can see from HTTP alone is found; the clean build reaches full coverage; a second scan right
after the first gives the same result; ``--plan`` sends nothing; a remote host is refused before any
request; an operation that locks a principal out is named, excluded, and the scan goes on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from harness import safety
from harness.campaign import Campaign, Options
from harness.cli import main
from harness.errors import HarnessError, ScenarioError
from harness.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "boards" / "scenario.toml"

#: leak -> (finding kind, operation) the harness must report for it, and the phases that find it.
LEAKS = {
    "search-all-users": ("foreign-row", "GET /notes", ("sweep",)),
    "file-idor": ("foreign-row", "GET /files/{id}/content", ("sweep",)),
    "foreign-workspace-slug": ("foreign-row", "GET /w/{ws}/boards", ("sweep",)),
    "cards-board-unscoped": ("foreign-row", "GET /w/{ws}/boards/{board_id}/cards", ("sweep",)),
    # No database: the owner reads its note back after the 204 and finds it changed.
    "note-write-204": ("write-isolation", "PUT /notes/{id}", ("sweep",)),
    # The card leaves its owner's workspace for the foreign board its body named.
    "card-move-foreign-board": ("cross-reference", "PATCH /w/{ws}/cards/{card_id}", ("sweep",)),
    # Only a number moves: the same list before and after other users created notes.
    "count-header": ("non-interference", "GET /notes", ("sweep", "noninterference")),
}
#: What the clean build reports without failing: ``DELETE /notes/{id}`` of someone else's note answers
#: 200 ``{"deleted": false}`` and changes nothing its owner can see (a note), and the user directory,
#: public by design, is waived in the scenario with its reason.
NOTE = ("object-level", "DELETE /notes/{id}")
WAIVED = ("foreign-row", "GET /users")


def scan(base_url: str, scenario=SCENARIO, seed: int = 1, phases=("sweep",), **options) -> dict:
    return Campaign(load_scenario(scenario), Options(seed=seed, base_url=base_url, phases=phases, **options)).run()


def found(doc: dict) -> set[tuple[str, str]]:
    """(kind, operation) of the findings that fail the scan (not waived, not notes)."""
    return {(f["kind"], f["operation"]) for f in doc["findings"]
            if not f.get("waived") and f.get("severity", "error") == "error"}


def noted(doc: dict) -> set[tuple[str, str]]:
    return {(f["kind"], f["operation"]) for f in doc["findings"] if f.get("severity") == "note"}


def waived(doc: dict) -> set[tuple[str, str]]:
    return {(f["kind"], f["operation"]) for f in doc["findings"] if f.get("waived")}


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the boards scenario with one line changed (still declarative only)."""
    text = SCENARIO.read_text()
    assert old in text
    path = tmp_path / "scenario.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_each_leak_is_found_from_http_alone(boards_app, leak):
    kind, operation, phases = LEAKS[leak]
    doc = scan(boards_app(leak).base_url, phases=phases)
    assert (kind, operation) in found(doc), (leak, sorted(found(doc)))
    assert not doc["summary"]["ok"]
    assert all(len(f["evidence"]) <= 500 for f in doc["findings"])


def test_a_password_reset_of_another_user_is_read_back_by_the_victims_login(boards_app, tmp_path):
    """An account write answers 204 and shows nothing: read back by what it controls, the victim's login."""
    allowed = variant(tmp_path, "allow = []", 'allow = ["PUT /users/{id}/password"]')
    doc = scan(boards_app("password-other-user").base_url, scenario=allowed)
    hits = [f for f in doc["findings"] if (f["kind"], f["operation"]) == ("write-isolation", "PUT /users/{id}/password")]
    assert hits and all("can no longer log in with its own credentials" in f["evidence"] for f in hits)
    assert all(f["oracle"] == "read-back" and f["victim_tenant"] != f["principal"] for f in hits)
    clean = scan(boards_app().base_url, scenario=allowed)
    assert ("write-isolation", "PUT /users/{id}/password") not in found(clean)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_build_full_coverage_and_no_finding(boards_app, seed):
    doc = scan(boards_app().base_url, seed=seed, phases=None)
    assert doc["summary"]["problems"] == []
    assert doc["summary"]["uncovered"] == 0 and doc["summary"]["covered"] == len(doc["coverage"]) > 0
    assert found(doc) == set(), [f"{f['kind']} {f['operation']}: {f['evidence']}" for f in doc["findings"]]
    assert doc["summary"]["ok"] and doc["summary"]["findings"] == 0
    # The do-nothing DELETE is a note, not a leak; the public directory is reported, marked waived.
    assert noted(doc) == {NOTE} and waived(doc) == {WAIVED}
    assert all("changed nothing its owner can see" in f["evidence"] for f in doc["findings"] if f["severity"] == "note")
    assert doc["run"]["twins"], "live non-interference must have run"
    # The dangerous operations were left out, each with its reason, and the reset never ran.
    skipped = "\n".join(doc["run"]["skipped"])
    for label in ("GET /admin/reset", "PUT /me/password", "DELETE /me", "PATCH /w/{ws}/members/{user_id}"):
        assert f"{label}: not sent" in skipped
    assert "GET /admin/reset" not in doc["run"]["operations"]


def test_second_scan_right_after_the_first_gives_the_same_result(boards_app):
    url = boards_app().base_url
    first, second = scan(url), scan(url)
    assert first["run"]["principals"] == second["run"]["principals"]
    assert [(r["operation"], r["principal"], r["status"]) for r in first["coverage"]] == \
           [(r["operation"], r["principal"], r["status"]) for r in second["coverage"]]
    assert {f["id"] for f in first["findings"]} == {f["id"] for f in second["findings"]}


def test_an_expired_waiver_fails_the_scan_again(boards_app, tmp_path):
    expired = variant(tmp_path, 'field = "display_name"', 'field = "display_name"\nexpires = "2020-01-31"')
    doc = scan(boards_app().base_url, scenario=expired)
    assert WAIVED in found(doc) and not doc["summary"]["ok"]
    hit = next(f for f in doc["findings"] if (f["kind"], f["operation"]) == WAIVED)
    assert hit["waiver_expired"]["expires"] == "2020-01-31"
    assert [w["status"] for w in doc["waivers"]] == ["expired"]


def test_waivers_in_a_file_under_version_control_and_unused_ones_listed(boards_app, tmp_path):
    plain = tmp_path / "plain.toml"  # the scenario without its own waiver
    plain.write_text(SCENARIO.read_text().split("# Shared by design")[0])
    file = tmp_path / "waivers.toml"
    file.write_text('[[waivers]]\nkind = "foreign-row"\noperation = "GET /users"\nfield = "display_name"\n'
                    'reason = "public directory"\n\n[[waivers]]\nkind = "foreign-row"\noperation = "GET /files"\n'
                    'reason = "nothing matches this one"\n')
    doc = scan(boards_app().base_url, scenario=plain, waivers_file=str(file))
    assert found(doc) == set() and waived(doc) == {WAIVED}
    assert [w["status"] for w in doc["waivers"]] == ["applied", "unmatched"]
    assert not doc["summary"]["problems"]  # --phases chosen: an unmatched waiver is listed, not stale


def test_only_base_url_and_the_scenario_file_reach_full_coverage(boards_app, tmp_path):
    url = boards_app().base_url
    code = main(["scan", "--scenario", str(SCENARIO), "--base-url", url, "--out", str(tmp_path), "--phases", "sweep",
                 "-q", "--", "-q", "-p", "no:randomly"])
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["summary"]["uncovered"] == 0 and doc["summary"]["problems"] == []
    assert code == (0 if doc["summary"]["ok"] else 1) == (1 if doc["summary"]["findings"] else 0)


def test_plan_prints_what_would_be_sent_and_sends_nothing(boards_app, capsys):
    b = boards_app()
    assert main(["scan", "--scenario", str(SCENARIO), "--base-url", b.base_url, "--plan"]) == 0
    out = capsys.readouterr().out
    assert "nothing below has been sent" in out and f"target: {b.base_url}/api (loopback" in out
    assert "  PUT /notes/{id}   [write]" in out and "  GET /notes\n" in out
    assert re.search(r"GET /admin/reset: looks like a whole-store wipe", out)
    assert "alice (role user, tenant alice): signed up fresh via POST /signup" in out
    # Nobody signed up: the directory holds only the account made here, after the plan.
    carol = b.signup("Carol")
    assert [u["display_name"] for u in carol.client.get("/users").json()["items"]] == ["Carol"]


def test_a_remote_host_is_refused_before_any_request():
    # boards.invalid resolves nowhere: any request would fail with a connection error, not this refusal.
    with pytest.raises(HarnessError, match=r"boards\.invalid is not this machine: confirm the target with "
                                           r"--target-host boards\.invalid"):
        scan("http://boards.invalid:8000")


def test_writes_to_a_named_remote_host_need_allow_writes(boards_app, tmp_path):
    spec = tmp_path / "openapi.json"
    spec.write_text(httpx.get(boards_app().base_url + "/api/openapi.json").text)
    local = variant(tmp_path, 'openapi = "/api/openapi.json"', f'openapi = "{spec}"')
    opt = Options(base_url="http://boards.invalid:8000", target_host="boards.invalid")
    text = safety.plan(load_scenario(local), opt)  # reads the spec file: no request at all
    assert "remote host boards.invalid; unsafe methods NOT sent (pass --allow-writes)" in text
    assert "POST /notes: unsafe method on boards.invalid without --allow-writes" in text
    assert "  GET /notes\n" in text and "[write]" not in text
    allowed = safety.plan(load_scenario(local), Options(base_url="http://boards.invalid:8000",
                                                        target_host="boards.invalid", allow_writes=True))
    assert "  POST /notes   [write]" in allowed and "20.0 requests/s" in allowed


def test_the_write_policy_is_decided_from_the_url():
    assert safety.check_target("http://127.0.0.1:8000").writes
    assert safety.check_target("http://localhost:8000").writes and safety.check_target("http://[::1]:80").writes
    with pytest.raises(HarnessError, match="--target-host api.example.com"):
        safety.check_target("https://api.example.com")
    with pytest.raises(HarnessError, match="not this machine"):
        safety.check_target("https://api.example.com", target_host="other.example.com")
    named = safety.check_target("https://api.example.com", target_host="api.example.com")
    assert not named.writes and not named.loopback
    assert safety.check_target("https://api.example.com", "api.example.com", allow_writes=True).writes


def test_an_operation_that_locks_principals_out_is_named_excluded_and_the_scan_goes_on(boards_app, tmp_path):
    allowed = variant(tmp_path, "allow = []", 'allow = ["PUT /users/{id}/password"]')
    doc = scan(boards_app().base_url, scenario=allowed, phases=("sweep", "fuzz"))
    skipped = "\n".join(doc["run"]["skipped"])
    assert re.search(r"PUT /users/\{id\}/password: excluded after phase sweep: \w+ can no longer log in", skipped)
    assert "re-seeded, scan continued" in skipped
    # The scan went on: the fuzz phase ran with the re-seeded principals, and coverage is still whole.
    assert doc["summary"]["uncovered"] == 0 and doc["summary"]["problems"] == [], doc["summary"]["problems"]
    assert any(r["requests"] > 1 for r in doc["coverage"] if r["operation"] == "GET /notes")


def test_a_missing_field_names_itself_with_an_example(tmp_path):
    broken = variant(tmp_path, 'openapi = "/api/openapi.json"', "")
    with pytest.raises(ScenarioError, match=r"target\.openapi is missing, e\.g\. \[target\] openapi = "):
        load_scenario(broken)
    no_login = tmp_path / "s2.toml"
    no_login.write_text('[target]\nopenapi = "/o.json"\n[principals]\nsignup = ["a"]\n')
    with pytest.raises(ScenarioError, match=r"login is missing, e\.g\. \[login\] operation = "):
        load_scenario(no_login)


def test_the_scenario_may_live_in_pyproject(tmp_path):
    body = SCENARIO.read_text()
    # Every table of the standalone file, moved under [tool.tenant-harness].
    body = re.sub(r"^\[(\w+)\]", r"[tool.tenant-harness.\1]", body, flags=re.M)
    body = re.sub(r"^\[\[(\w+)\]\]", r"[[tool.tenant-harness.\1]]", body, flags=re.M)
    body = body.replace('name = "boards"', '[tool.tenant-harness]\nname = "boards"')
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n' + body)
    scenario = load_scenario(tmp_path / "pyproject.toml")
    assert scenario.name == "boards" and scenario.login.encoding == "form"
    assert [p.name for p in scenario.principals(scenario.generate_world(1))] == ["alice", "bob", "carol"]


def test_init_writes_a_skeleton_that_scans_after_the_review(boards_app, tmp_path):
    """From the OpenAPI URL to a first scan: the skeleton's guesses (form login at the OAuth2 token URL, JSON
    sign-up, the workspace slug, the dangerous operations) hold; the review adds the public directory."""
    url = boards_app().base_url
    skeleton = tmp_path / "scenario.toml"
    assert main(["init", "--openapi", url + "/api/openapi.json", "--out", str(skeleton)]) == 0
    text = skeleton.read_text()
    assert 'operation = "POST /token"' in text and 'encoding = "form"' in text and 'operation = "POST /signup"' in text
    assert 'ws = "workspaces.slug"' in text and "#   GET /admin/reset: looks like a whole-store wipe" in text
    assert "POST /w/{ws}/members: changes who may see what" in text
    assert main(["init", "--openapi", url + "/api/openapi.json", "--out", str(skeleton)]) == 2  # no silent overwrite
    skeleton.write_text(text + '\n[[waivers]]\nkind = "foreign-row"\noperation = "GET /users"\nfield = "display_name"\n'
                               'reason = "public directory"\n')
    doc = scan(url, scenario=skeleton)
    assert doc["summary"]["uncovered"] == 0 and doc["summary"]["problems"] == [] and doc["summary"]["ok"]
    assert found(doc) == set() and waived(doc) == {WAIVED}


def test_reproduce_on_a_live_target_recreates_what_the_finding_needs(boards_app, tmp_path, capsys):
    """No world survives a live scan (fresh sign-ups each run): reproduce scans the one operation again."""
    leaky = boards_app("file-idor")
    code = main(["scan", "--scenario", str(SCENARIO), "--base-url", leaky.base_url, "--out", str(tmp_path),
                 "--phases", "sweep", "-q", "--", "-q", "-p", "no:randomly"])
    assert code == 1
    doc = json.loads((tmp_path / "findings.json").read_text())
    finding = next(f for f in doc["findings"] if f["operation"] == "GET /files/{id}/content")
    capsys.readouterr()
    again = main(["reproduce", finding["id"], "--scenario", str(SCENARIO), "--reports", str(tmp_path),
                  "--base-url", leaky.base_url])
    out = capsys.readouterr().out
    assert again == 1 and f"REPRODUCED {finding['id']}" in out
    assert main(["reproduce", finding["id"], "--scenario", str(SCENARIO), "--reports", str(tmp_path),
                 "--base-url", boards_app().base_url]) == 0


def test_a_profile_field_the_principal_wrote_and_reads_back_is_not_a_leak(boards_app, tmp_path):
    """PATCH /me allowed: whatever a principal writes into its own profile (its sweep, its fuzz cases, an
    attack's foreign value) and reads back through GET /me is its own, never another tenant's row."""
    allowed = variant(tmp_path, "allow = []", 'allow = ["PATCH /me"]')
    doc = scan(boards_app().base_url, scenario=allowed, phases=("sweep", "fuzz"))
    assert "PATCH /me" in doc["run"]["operations"]
    assert {r["status"] for r in doc["coverage"] if r["operation"] in ("PATCH /me", "GET /me")} == {"covered"}
    assert found(doc) == set(), [f["evidence"] for f in doc["findings"]]
