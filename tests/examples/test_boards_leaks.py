"""Boards over real HTTP: its shape (SPA fallback, ``servers: /api``, form login, lists), its dangerous
and quirky operations, and every leak proven with direct requests, on and off.

Each leak test runs the same requests twice (``clean`` and ``leak``) on a fresh database each time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from examples.boards import __main__ as cli
from examples.boards import create_app, leaks

REPO = Path(__file__).resolve().parents[2]
CLEAN_LEAK = pytest.mark.parametrize("leaky", [False, True], ids=["clean", "leak"])


def _start(boards_app, leak: str, leaky: bool):
    return boards_app(leak) if leaky else boards_app()


# --- shape ---------------------------------------------------------------------------------------

def test_spa_fallback_answers_html_and_the_spec_declares_servers(boards_app):
    b = boards_app()
    for path in ("/", "/nope", "/openapi.json", "/notes", "/admin/reset"):
        r = httpx.get(b.base_url + path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
    assert httpx.get(b.api + "/nope").status_code == 404  # unknown API paths are real 404s
    spec = httpx.get(b.api + "/openapi.json").json()
    assert spec["servers"] == [{"url": "/api"}]
    assert "/notes" in spec["paths"] and not any(p.startswith("/api") for p in spec["paths"])
    scheme = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["type"] == "oauth2" and "password" in scheme["flows"]
    assert spec["paths"]["/notes"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


def test_every_leak_names_operations_of_the_spec(boards_app):
    spec = httpx.get(boards_app().api + "/openapi.json").json()
    operations = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    assert len(operations) == 35
    for leak in leaks.REGISTRY.values():
        assert leak.description and set(leak.affects) <= operations, leak.name


def test_form_login_signup_and_tokens(boards_app):
    b = boards_app()
    alice = b.signup("Alice")
    assert b.anonymous.get("/me").status_code == 401
    assert alice.client.get("/me").json() == {"id": alice.id, "email": alice.email, "display_name": "Alice"}
    # OAuth2 password form only: JSON is a 422, a wrong password a 401.
    assert b.anonymous.post("/token", json={"username": alice.email, "password": alice.password}).status_code == 422
    assert b.login(alice.email, "wrong-password").status_code == 401
    again = b.login(alice.email.upper(), alice.password)
    assert again.status_code == 200 and again.json()["token_type"] == "bearer"
    fresh = httpx.get(b.api + "/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    assert fresh.status_code == 200 and alice.client.get("/me").status_code == 200  # both tokens live
    dup = b.anonymous.post("/signup", json={"email": alice.email, "password": "x" * 8, "display_name": "A2"})
    assert dup.status_code == 409
    # Sign-up made a personal workspace (a new tenant), listed with the caller as owner.
    r = alice.client.get("/workspaces")
    assert r.json() == {"items": [{"slug": alice.workspace, "name": "Alice", "personal": True, "role": "owner"}],
                        "total": 1}
    assert r.headers["x-total-count"] == "1"


def test_lists_carry_items_total_and_the_callers_own_count(boards_app):
    b = boards_app()
    alice, bob = b.signup("Alice"), b.signup("Bob")
    for i in range(3):
        alice.client.post("/notes", json={"title": f"a{i}"})
    bob.client.post("/notes", json={"title": "b"})
    alice.client.post("/files", data={"title": "f"}, files={"file": ("a.txt", b"alpha", "text/plain")})
    board = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "Roadmap"}).json()
    alice.client.post(f"/w/{alice.workspace}/boards/{board['id']}/cards", json={"title": "c1"})
    bob.client.post(f"/w/{bob.workspace}/boards", json={"name": "Other"})
    expected = {"/notes": 3, "/files": 1, "/workspaces": 1, f"/w/{alice.workspace}/boards": 1,
                f"/w/{alice.workspace}/boards/{board['id']}/cards": 1, f"/w/{alice.workspace}/members": 1,
                "/users": 2}
    for path, n in expected.items():
        r = alice.client.get(path)
        assert r.status_code == 200 and set(r.json()) == {"items", "total"}, path
        assert r.json()["total"] == n == len(r.json()["items"]) and r.headers["x-total-count"] == str(n), path
    page = alice.client.get("/notes", params={"limit": 2, "offset": 2}).json()
    assert [n["title"] for n in page["items"]] == ["a2"] and page["total"] == 3
    assert [n["title"] for n in alice.client.get("/notes", params={"q": "A1"}).json()["items"]] == ["a1"]


def test_responses_carry_no_tenant_column(boards_app):
    b = boards_app()
    alice = b.signup("Alice")
    note = alice.client.post("/notes", json={"title": "t"}).json()
    file = alice.client.post("/files", data={"title": "f"}, files={"file": ("a.txt", b"x")}).json()
    board = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "B"}).json()
    card = alice.client.post(f"/w/{alice.workspace}/boards/{board['id']}/cards", json={"title": "c"}).json()
    assert set(note) == {"id", "title", "body", "created_at", "updated_at"}
    assert set(file) == {"id", "title", "filename", "content_type", "size", "created_at"}
    assert set(board) == {"id", "name", "description", "created_at"}
    assert set(card) == {"id", "board_id", "title", "body", "position", "created_at", "updated_at"}


def test_files_upload_metadata_and_download(boards_app):
    b = boards_app()
    alice, bob = b.signup("Alice"), b.signup("Bob")
    r = alice.client.post("/files", data={"title": "Plan"}, files={"file": ("../plan v1.txt", b"secret plan", "text/plain")})
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["filename"] == "plan_v1.txt" and meta["size"] == 11 and meta["title"] == "Plan"
    assert alice.client.get(f"/files/{meta['id']}").json() == meta
    content = alice.client.get(f"/files/{meta['id']}/content")
    assert content.content == b"secret plan" and "plan_v1.txt" in content.headers["content-disposition"]
    assert bob.client.get(f"/files/{meta['id']}").status_code == 404
    assert bob.client.delete(f"/files/{meta['id']}").status_code == 404
    assert alice.client.delete(f"/files/{meta['id']}").status_code == 204


def test_workspace_members_and_roles(boards_app):
    b = boards_app()
    alice, bob, carol = b.signup("Alice"), b.signup("Bob"), b.signup("Carol")
    ws = alice.client.post("/workspaces", json={"name": "Team Rocket"}).json()
    assert ws == {"slug": "team-rocket", "name": "Team Rocket", "personal": False, "role": "owner"}
    assert alice.client.post("/workspaces", json={"name": "Team Rocket"}).json()["slug"] == "team-rocket-2"
    assert alice.client.post("/workspaces", json={"name": "x", "slug": "team-rocket"}).status_code == 409
    slug = ws["slug"]
    assert bob.client.get(f"/w/{slug}/boards").status_code == 404  # not a member yet
    added = alice.client.post(f"/w/{slug}/members", json={"email": bob.email})
    assert added.status_code == 201 and added.json() == {"user_id": bob.id, "display_name": "Bob", "role": "member"}
    assert alice.client.post(f"/w/{slug}/members", json={"email": bob.email}).status_code == 409
    assert alice.client.post(f"/w/{slug}/members", json={"email": "nobody@x.example"}).status_code == 404
    board = bob.client.post(f"/w/{slug}/boards", json={"name": "Shared"})
    assert board.status_code == 201
    assert alice.client.get(f"/w/{slug}/boards/{board.json()['id']}").status_code == 200
    # Members cannot manage members nor delete boards; owners can.
    assert bob.client.post(f"/w/{slug}/members", json={"email": carol.email}).status_code == 403
    assert bob.client.delete(f"/w/{slug}/boards/{board.json()['id']}").status_code == 403
    assert {w["slug"] for w in bob.client.get("/workspaces").json()["items"]} == {bob.workspace, slug}
    # PATCH members: promote Bob, then demote Alice; the last owner cannot be demoted.
    assert alice.client.patch(f"/w/{slug}/members/{bob.id}", json={"role": "owner"}).json()["role"] == "owner"
    assert bob.client.patch(f"/w/{slug}/members/{alice.id}", json={"role": "member"}).status_code == 200
    assert alice.client.get(f"/w/{slug}").json()["role"] == "member"
    assert bob.client.patch(f"/w/{slug}/members/{bob.id}", json={"role": "member"}).status_code == 409
    assert bob.client.patch(f"/w/{slug}/members/{carol.id}", json={"role": "member"}).status_code == 404


def test_cards_crud_and_move_within_the_workspace(boards_app):
    b = boards_app()
    alice = b.signup("Alice")
    ws = alice.workspace
    todo = alice.client.post(f"/w/{ws}/boards", json={"name": "Todo"}).json()
    done = alice.client.post(f"/w/{ws}/boards", json={"name": "Done"}).json()
    c1 = alice.client.post(f"/w/{ws}/boards/{todo['id']}/cards", json={"title": "one"}).json()
    c2 = alice.client.post(f"/w/{ws}/boards/{todo['id']}/cards", json={"title": "two"}).json()
    assert (c1["position"], c2["position"]) == (0, 1)
    moved = alice.client.patch(f"/w/{ws}/cards/{c1['id']}", json={"board_id": done["id"], "title": "uno"})
    assert moved.status_code == 200 and moved.json()["board_id"] == done["id"] and moved.json()["title"] == "uno"
    assert alice.client.get(f"/w/{ws}/boards/{done['id']}/cards").json()["total"] == 1
    renamed = alice.client.patch(f"/w/{ws}/boards/{todo['id']}", json={"name": "Doing"})
    assert renamed.json()["name"] == "Doing"
    assert alice.client.delete(f"/w/{ws}/cards/{c2['id']}").status_code == 204
    assert alice.client.get(f"/w/{ws}/cards/{c2['id']}").status_code == 404
    assert alice.client.delete(f"/w/{ws}/boards/{done['id']}").status_code == 204
    assert alice.client.get(f"/w/{ws}/cards/{c1['id']}").status_code == 404  # cascaded
    assert alice.client.patch(f"/w/{ws}/cards/{c1['id']}", json={"title": "\x00"}).status_code == 404
    assert alice.client.post("/notes", json={"title": "nul \x00"}).status_code == 422  # not a 500
    assert alice.client.get("/notes/99999999999").status_code == 422


# --- dangerous, account-level and quirky operations of the clean build -----------------------------

def test_admin_reset_is_a_get_that_wipes_everything(boards_app):
    b = boards_app()
    alice, bob = b.signup("Alice"), b.signup("Bob")
    alice.client.post("/notes", json={"title": "keep me"})
    bob.client.post(f"/w/{bob.workspace}/boards", json={"name": "B"})
    assert b.anonymous.get("/admin/reset").status_code == 401
    r = bob.client.get("/admin/reset")  # any logged-in user
    assert r.status_code == 200 and r.json() == {"reset": True}
    assert alice.client.get("/notes").status_code == 401  # tokens went too
    assert b.login(alice.email, alice.password).status_code == 401
    carol = b.signup("Carol")
    assert carol.client.get("/users").json()["total"] == 1
    assert carol.client.get("/notes").json()["total"] == 0


def test_clean_delete_of_a_foreign_note_answers_200_deleted_false(boards_app):
    b = boards_app()
    alice, bob = b.signup("Alice"), b.signup("Bob")
    note = alice.client.post("/notes", json={"title": "mine"}).json()
    r = bob.client.delete(f"/notes/{note['id']}")
    assert r.status_code == 200 and r.json() == {"deleted": False}
    assert alice.client.get(f"/notes/{note['id']}").status_code == 200  # nothing happened
    assert bob.client.delete("/notes/999999").json() == {"deleted": False}  # same answer as a missing note
    assert alice.client.delete(f"/notes/{note['id']}").json() == {"deleted": True}
    assert alice.client.delete(f"/notes/{note['id']}").json() == {"deleted": False}


def test_account_operations(boards_app):
    b = boards_app()
    alice, bob = b.signup("Alice"), b.signup("Bob")
    assert alice.client.patch("/me", json={"display_name": "Alice Renamed"}).json()["display_name"] == "Alice Renamed"
    assert alice.client.get("/me").json()["display_name"] == "Alice Renamed"
    assert {"id": alice.id, "display_name": "Alice Renamed"} in bob.client.get("/users").json()["items"]  # by design
    wrong = alice.client.put("/me/password", json={"current_password": "nope", "new_password": "new-password-1"})
    assert wrong.status_code == 403
    ok = alice.client.put("/me/password", json={"current_password": alice.password, "new_password": "new-password-1"})
    assert ok.status_code == 204
    assert b.login(alice.email, alice.password).status_code == 401
    assert b.login(alice.email, "new-password-1").status_code == 200
    assert alice.client.put(f"/users/{alice.id}/password", json={"new_password": "new-password-2"}).status_code == 204
    assert b.login(alice.email, "new-password-2").status_code == 200
    shared = alice.client.post("/workspaces", json={"name": "Shared"}).json()["slug"]
    alice.client.post(f"/w/{shared}/members", json={"email": bob.email})
    alice.client.post("/notes", json={"title": "gone soon"})
    assert alice.client.delete("/me").status_code == 204
    assert alice.client.get("/me").status_code == 401
    assert b.login(alice.email, "new-password-2").status_code == 401
    # Her personal workspace went; the shared one stays with Bob.
    assert [w["slug"] for w in bob.client.get("/workspaces").json()["items"]] == [bob.workspace, shared]
    assert bob.client.get(f"/w/{alice.workspace}/boards").status_code == 404


# --- the leaks, each on and off -----------------------------------------------------------------

@CLEAN_LEAK
def test_note_write_204(boards_app, leaky):
    b = _start(boards_app, "note-write-204", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    note = alice.client.post("/notes", json={"title": "Alice's plan", "body": "private"}).json()
    assert bob.client.put("/notes/999999", json={"title": "x"}).status_code == 404
    r = bob.client.put(f"/notes/{note['id']}", json={"title": "defaced", "body": ""})
    after = alice.client.get(f"/notes/{note['id']}").json()
    if leaky:
        assert r.status_code == 204 and r.content == b""
        assert after["title"] == "defaced"
    else:
        assert r.status_code == 404
        assert after["title"] == "Alice's plan"
    own = alice.client.put(f"/notes/{note['id']}", json={"title": "v2", "body": "b"})
    assert own.status_code == 204 and own.content == b""


@CLEAN_LEAK
def test_password_other_user(boards_app, leaky):
    b = _start(boards_app, "password-other-user", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    r = bob.client.put(f"/users/{alice.id}/password", json={"new_password": "bob-owns-you"})
    if leaky:
        assert r.status_code == 204
        assert b.login(alice.email, "bob-owns-you").status_code == 200  # account taken over
        assert b.login(alice.email, alice.password).status_code == 401
    else:
        assert r.status_code == 403
        assert b.login(alice.email, "bob-owns-you").status_code == 401
        assert b.login(alice.email, alice.password).status_code == 200


@CLEAN_LEAK
def test_count_header(boards_app, leaky):
    b = _start(boards_app, "count-header", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    alice.client.post("/notes", json={"title": "a"})
    for i in range(4):
        bob.client.post("/notes", json={"title": f"b{i}"})
    r = alice.client.get("/notes")
    assert r.json()["total"] == 1 and len(r.json()["items"]) == 1  # the body is right either way
    assert r.headers["x-total-count"] == ("5" if leaky else "1")
    assert alice.client.get("/files").headers["x-total-count"] == "0"  # only GET /notes is affected


@CLEAN_LEAK
def test_foreign_workspace_slug(boards_app, leaky):
    b = _start(boards_app, "foreign-workspace-slug", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    board = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "Merger plans"}).json()
    listing = bob.client.get(f"/w/{alice.workspace}/boards")
    detail = bob.client.get(f"/w/{alice.workspace}/boards/{board['id']}")
    if leaky:
        assert listing.status_code == 200 and listing.json()["items"][0]["name"] == "Merger plans"
        assert detail.status_code == 200 and detail.json()["name"] == "Merger plans"
    else:
        assert listing.status_code == 404 and detail.status_code == 404
        assert "Merger plans" not in listing.text + detail.text
    # Writes and the other workspace routes keep their membership check.
    assert bob.client.post(f"/w/{alice.workspace}/boards", json={"name": "x"}).status_code == 404
    assert bob.client.get(f"/w/{alice.workspace}/members").status_code == 404
    assert b.anonymous.get("/w/nope/boards").status_code == 401


@CLEAN_LEAK
def test_file_idor(boards_app, leaky):
    b = _start(boards_app, "file-idor", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    meta = alice.client.post("/files", data={"title": "Payroll"},
                             files={"file": ("payroll.csv", b"alice,100000", "text/csv")}).json()
    content = bob.client.get(f"/files/{meta['id']}/content")
    assert bob.client.get(f"/files/{meta['id']}").status_code == 404  # the metadata route is right
    if leaky:
        assert content.status_code == 200 and content.content == b"alice,100000"
        assert "payroll.csv" in content.headers["content-disposition"]
    else:
        assert content.status_code == 404 and b"alice" not in content.content


@CLEAN_LEAK
def test_search_all_users(boards_app, leaky):
    b = _start(boards_app, "search-all-users", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    alice.client.post("/notes", json={"title": "launch codes", "body": "zx81-omega"})
    bob.client.post("/notes", json={"title": "groceries"})
    r = bob.client.get("/notes", params={"q": "omega"})
    assert bob.client.get("/notes").json()["total"] == 1  # without q the list is right
    if leaky:
        assert r.json()["total"] == 1 and r.json()["items"][0]["body"] == "zx81-omega"
    else:
        assert r.json() == {"items": [], "total": 0} and "omega" not in r.text


@CLEAN_LEAK
def test_card_move_foreign_board(boards_app, leaky):
    b = _start(boards_app, "card-move-foreign-board", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    target = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "Alice's board"}).json()
    own = bob.client.post(f"/w/{bob.workspace}/boards", json={"name": "Bob's board"}).json()
    card = bob.client.post(f"/w/{bob.workspace}/boards/{own['id']}/cards", json={"title": "spam"}).json()
    r = bob.client.patch(f"/w/{bob.workspace}/cards/{card['id']}", json={"board_id": target["id"]})
    alice_cards = alice.client.get(f"/w/{alice.workspace}/boards/{target['id']}/cards").json()
    if leaky:
        assert r.status_code == 200 and r.json()["board_id"] == target["id"]
        assert [c["title"] for c in alice_cards["items"]] == ["spam"]  # written into Alice's workspace
    else:
        assert r.status_code == 404
        assert alice_cards == {"items": [], "total": 0}
        assert bob.client.get(f"/w/{bob.workspace}/cards/{card['id']}").json()["board_id"] == own["id"]


@CLEAN_LEAK
def test_cards_board_unscoped(boards_app, leaky):
    b = _start(boards_app, "cards-board-unscoped", leaky)
    alice, bob = b.signup("Alice"), b.signup("Bob")
    board = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "Secret"}).json()
    alice.client.post(f"/w/{alice.workspace}/boards/{board['id']}/cards", json={"title": "acquire Initech"})
    # Bob names his own workspace in the path (membership passes) and Alice's board id.
    read = bob.client.get(f"/w/{bob.workspace}/boards/{board['id']}/cards")
    write = bob.client.post(f"/w/{bob.workspace}/boards/{board['id']}/cards", json={"title": "planted"})
    titles = [c["title"] for c in alice.client.get(f"/w/{alice.workspace}/boards/{board['id']}/cards").json()["items"]]
    if leaky:
        assert read.status_code == 200 and read.json()["items"][0]["title"] == "acquire Initech"
        assert write.status_code == 201 and titles == ["acquire Initech", "planted"]
    else:
        assert read.status_code == 404 and write.status_code == 404
        assert titles == ["acquire Initech"]
    assert bob.client.get(f"/w/{alice.workspace}/boards/{board['id']}/cards").status_code == 404


def test_all_leaks_on_keep_the_owners_own_paths_working(boards_app):
    b = boards_app("all")
    alice = b.signup("Alice")
    note = alice.client.post("/notes", json={"title": "mine"}).json()
    assert alice.client.get("/notes", params={"q": "mine"}).json()["total"] == 1
    assert alice.client.put(f"/notes/{note['id']}", json={"title": "still mine"}).status_code == 204
    board = alice.client.post(f"/w/{alice.workspace}/boards", json={"name": "B"}).json()
    card = alice.client.post(f"/w/{alice.workspace}/boards/{board['id']}/cards", json={"title": "c"}).json()
    assert alice.client.get(f"/w/{alice.workspace}/cards/{card['id']}").status_code == 200


# --- the switch ---------------------------------------------------------------------------------

def test_leak_switch_parsing_and_environment(monkeypatch):
    assert leaks.parse("all") == frozenset(leaks.REGISTRY) and len(leaks.REGISTRY) >= 6
    assert leaks.parse(" file-idor, count-header ,") == {"file-idor", "count-header"}
    with pytest.raises(ValueError, match="unknown Boards leak.*nope"):
        leaks.parse("file-idor,nope")
    dsn = "postgresql://nobody@127.0.0.1:1/none"  # the pool opens lazily: no connection is made
    monkeypatch.setenv(leaks.ENV, "file-idor")
    assert create_app(dsn, {"count-header"}).state.boards.leak.names == {"file-idor", "count-header"}
    monkeypatch.setenv(leaks.ENV, "all")
    assert create_app(dsn).state.boards.leak.names == frozenset(leaks.REGISTRY)
    monkeypatch.setenv(leaks.ENV, "bogus")
    with pytest.raises(ValueError, match="bogus"):
        create_app(dsn)
    with pytest.raises(KeyError):
        leaks.Switches()("not-a-leak")


def test_cli_lists_leaks_and_rejects_unknown_ones(capsys):
    assert cli.main(["leaks"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == len(leaks.REGISTRY) and "file-idor\tGET /files/{id}/content\t" in out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--db-url", "postgresql://x/y", "--leaks", "nope"])
    assert exit_.value.code == 2 and "nope" in capsys.readouterr().err


def test_cli_serves_with_leaks(pg_server, tmp_path):
    cmd = [sys.executable, "-m", "examples.boards"]
    name = f"boards_cli_{os.getpid()}"
    dsn = pg_server.create_database(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != leaks.ENV}
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(cmd + ["serve", "--db-url", dsn, "--port", str(port), "--leaks", "count-header"],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                spec = httpx.get(base + "/api/openapi.json").json()
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        assert spec["servers"] == [{"url": "/api"}]
        api = base + "/api"
        for name_ in ("alice", "bob"):
            httpx.post(api + "/signup", json={"email": f"{name_}@x.example", "password": "password1",
                                              "display_name": name_}).raise_for_status()
        tokens = [httpx.post(api + "/token", data={"username": f"{n}@x.example", "password": "password1"})
                  .json()["access_token"] for n in ("alice", "bob")]
        httpx.post(api + "/notes", json={"title": "n"}, headers={"Authorization": f"Bearer {tokens[0]}"})
        r = httpx.get(api + "/notes", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert r.json()["total"] == 0 and r.headers["x-total-count"] == "1"  # --leaks count-header took effect
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        pg_server.drop_database(name)
