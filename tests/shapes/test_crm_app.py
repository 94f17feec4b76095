"""The CRM shape, driven directly: its world, its isolation when clean, and each planted leak made real.

Every leak test sends the *same* request to a clean app and to an app with only that leak switched on,
each over its own fresh clone of the seeded database, and shows the difference.
"""

import itertools
import os
import warnings

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

with warnings.catch_warnings():  # Starlette nags about httpx; the tests do not care
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from harness.world import write_tables
from tests.shapes.crm_app import LEAKS, SERIAL_TABLES, create_app, install
from tests.shapes.crm_world import TENANT_COLUMNS, USED_CURRENCIES, CrmWorld, Login, generate, generate_world

SEED = 11
_counter = itertools.count()


def advance_sequences(conn) -> None:
    """Move every serial sequence past the ids the world wrote.

    The world's rows carry explicit ids and go in with COPY, which never calls nextval(): each sequence is
    still at 1, so the app's first INSERT would take id 1 and collide with a seeded row.
    """
    for table in SERIAL_TABLES:
        conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM {i}), false)")
                     .format(t=sql.Literal(table), i=sql.Identifier(table)))


def seed_database(dsn: str, world: CrmWorld, *, sequences: bool = True) -> None:
    install(dsn)
    with psycopg.connect(dsn) as conn:  # one transaction, committed on leaving the block
        write_tables(conn, world.tables)
        if sequences:
            advance_sequences(conn)


@pytest.fixture(scope="module")
def world() -> CrmWorld:
    return generate(SEED)


@pytest.fixture(scope="module")
def crm_template(pg_server, world):
    name = f"crm_tpl_{os.getpid()}"
    seed_database(pg_server.create_database(name), world)
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def new_db(pg_server, crm_template):
    """A factory of fresh clones of the seeded template (superuser DSNs), all dropped after the test."""
    made = []

    def make() -> str:
        name = f"crm_t{os.getpid()}_{next(_counter)}"
        made.append(name)
        return pg_server.create_database(name, template=crm_template)

    yield make
    for name in made:
        pg_server.drop_database(name)


class Crm:
    """One app over one database; ``call(login, ...)`` sends a request carrying that user's token."""

    def __init__(self, dsn: str, leaks=frozenset(), **client):
        self.dsn = dsn
        self.app = create_app(dsn, frozenset(leaks))
        self.client = TestClient(self.app, base_url="http://crm", follow_redirects=False, **client)
        self._tokens: dict[str, str] = {}

    def token(self, login: Login) -> str:
        if login.email not in self._tokens:
            r = self.client.post("/auth/login", json={"email": login.email, "password": login.password})
            assert r.status_code == 200, r.text
            self._tokens[login.email] = r.json()["token"]
        return self._tokens[login.email]

    def call(self, login: Login, method: str, path: str, **kw):
        return self.client.request(method, path, headers={"Authorization": f"Bearer {self.token(login)}"}, **kw)

    def sql(self, query: str, params=()) -> list[dict]:
        with psycopg.connect(self.dsn, row_factory=dict_row) as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture
def crm(new_db) -> Crm:
    return Crm(new_db())


def both(new_db, leak: str) -> tuple[Crm, Crm]:
    """(clean app, app with ``leak`` on), each over its own fresh clone."""
    return Crm(new_db()), Crm(new_db(), {leak})


# -- reading the world -----------------------------------------------------------------------------------
def slug(world, ws_id: int) -> str:
    return next(w["slug"] for w in world.tables["workspaces"] if w["id"] == ws_id)


def ws_id(world, ws_slug: str) -> int:
    return next(w["id"] for w in world.tables["workspaces"] if w["slug"] == ws_slug)


def rows(world, table: str, ws: int) -> list[dict]:
    return [r for r in world.tables[table] if r["workspace_id"] == ws]


def login_of(world, user_id: int) -> Login:
    return next(l for l in world.logins if l.user_id == user_id)


def admin_and_stranger(world) -> tuple[Login, str, str]:
    """A user who is admin of workspace A and not a member of workspace B: (login, A, B)."""
    slugs = [w["slug"] for w in world.tables["workspaces"]]
    for login in world.logins:
        for a, role in login.workspaces.items():
            outside = [s for s in slugs if s not in login.workspaces]
            if role == "admin" and outside:
                return login, a, outside[0]
    raise AssertionError("the world has no admin outside some workspace")


def member_admin_elsewhere(world) -> tuple[Login, str]:
    """A user who is a plain member of some workspace and an admin of another: (login, where a member)."""
    for login in world.logins:
        roles = login.workspaces
        if "admin" in roles.values() and "member" in roles.values():
            return login, next(s for s, r in roles.items() if r == "member")
    raise AssertionError("the world has no member who is an admin elsewhere")


def plain_member(world, ws_slug: str) -> Login:
    return next(l for l in world.logins if l.workspaces.get(ws_slug) == "member"
                and "admin" not in l.workspaces.values())


def admin_of(world, ws_slug: str) -> Login:
    return next(l for l in world.logins if l.workspaces.get(ws_slug) == "admin")


def memberships(crm: Crm, user_id: int) -> set[int]:
    return {r["workspace_id"] for r in crm.sql("SELECT workspace_id FROM memberships WHERE user_id = %s",
                                               [user_id])}


# -- the world -------------------------------------------------------------------------------------------
def test_same_seed_same_world_other_seed_other_world():
    first, again = generate(SEED), generate(SEED)
    assert first.tables == again.tables and first.logins == again.logins
    assert generate_world(SEED) == first.tables
    assert generate(SEED + 1).tables != first.tables
    small = generate(3, workspaces=2, users=2, accounts=2, contacts=1, deals=1)
    assert small == generate(3, workspaces=2, users=2, accounts=2, contacts=1, deals=1)


def test_world_shape(world):
    t = world.tables
    assert list(t) == ["currencies", "workspaces", "users", "memberships", "accounts", "contacts", "deals"]
    assert set(t) == set(TENANT_COLUMNS)
    for table in SERIAL_TABLES:  # explicit integer ids, 1..n
        assert [r["id"] for r in t[table]] == list(range(1, len(t[table]) + 1))
    assert "id" not in t["memberships"][0]
    keys = [(m["workspace_id"], m["user_id"]) for m in t["memberships"]]
    assert len(keys) == len(set(keys))
    # several users in 2+ workspaces, with different roles in them
    multi = [l for l in world.logins if len(l.workspaces) >= 2]
    assert len(multi) >= 3 and any(len(set(l.workspaces.values())) == 2 for l in multi)
    for w in t["workspaces"]:
        members = [m for m in t["memberships"] if m["workspace_id"] == w["id"]]
        assert {m["role"] for m in members} == {"admin", "member"}
        assert rows(world, "accounts", w["id"]) and rows(world, "contacts", w["id"]) and rows(world, "deals", w["id"])
    used = {a["currency"] for a in t["accounts"]}
    assert len(used) >= 2 and used <= {c["code"] for c in t["currencies"]} and used == set(USED_CURRENCIES)
    assert {c["code"] for c in t["currencies"]} - used  # some codes exist only as reference data
    for code in used:  # each currency in use appears in at least two workspaces
        assert len({a["workspace_id"] for a in t["accounts"] if a["currency"] == code}) >= 2
    emails = [u["email"] for u in t["users"]] + [c["email"] for c in t["contacts"]]
    assert len(emails) == len(set(emails))
    numbers = [a["number"] for a in t["accounts"]]
    assert len(numbers) == len(set(numbers))
    accounts = {a["id"]: a["workspace_id"] for a in t["accounts"]}
    for child in t["contacts"] + t["deals"]:
        assert accounts[child["account_id"]] == child["workspace_id"]
    assert len(world.logins) == len(t["users"]) and all(l.password for l in world.logins)


def test_world_is_written_with_copy(crm, world):
    for table, expected in world.tables.items():
        assert crm.sql(f"SELECT count(*) AS n FROM {table}")[0]["n"] == len(expected)


def test_without_advancing_sequences_the_first_insert_collides(pg_server, world):
    name = f"crm_noseq_{os.getpid()}_{next(_counter)}"
    dsn = pg_server.create_database(name)
    try:
        seed_database(dsn, world, sequences=False)
        app = Crm(dsn, raise_server_exceptions=False)
        admin = admin_of(world, slug(world, 1))
        r = app.call(admin, "POST", f"/w/{slug(world, 1)}/accounts",
                     json={"number": "NEW-1", "name": "New", "currency": "EUR"})
        assert r.status_code == 500  # duplicate key accounts_pkey: the sequence handed out id 1 again
    finally:
        pg_server.drop_database(name)


# -- authentication and membership -----------------------------------------------------------------------
def test_login_and_me(crm, world):
    login = next(l for l in world.logins if len(l.workspaces) >= 2)
    assert crm.client.post("/auth/login", json={"email": login.email, "password": "wrong"}).status_code == 401
    assert crm.client.post("/auth/login", json={"email": "nobody@example.invalid", "password": "x"}).status_code == 401
    assert crm.client.get("/me").status_code == 401
    assert crm.client.get("/me", headers={"Authorization": "Bearer 1.forged"}).status_code == 401
    me = crm.call(login, "GET", "/me").json()
    assert me["email"] == login.email
    assert {w["slug"]: w["role"] for w in me["workspaces"]} == login.workspaces


def tenant_requests(world, ws: int) -> dict[str, tuple[str, str, dict]]:
    """One well-formed request per tenant operation, addressing workspace ``ws`` and its own objects."""
    s = slug(world, ws)
    account, contact, deal = (rows(world, t, ws)[0] for t in ("accounts", "contacts", "deals"))
    other_user = next(m["user_id"] for m in world.tables["memberships"] if m["workspace_id"] == ws
                      and m["role"] == "member")
    return {
        "GET /w/{ws}/accounts": ("GET", f"/w/{s}/accounts", {}),
        "POST /w/{ws}/accounts": ("POST", f"/w/{s}/accounts",
                                  {"json": {"number": "ZZ-0001", "name": "Probe", "currency": "EUR"}}),
        "GET /w/{ws}/accounts/by-number/{number}": ("GET", f"/w/{s}/accounts/by-number/{account['number']}", {}),
        "GET /w/{ws}/accounts/{account_id}": ("GET", f"/w/{s}/accounts/{account['id']}", {}),
        "PATCH /w/{ws}/accounts/{account_id}": ("PATCH", f"/w/{s}/accounts/{account['id']}",
                                                {"json": {"name": "Renamed"}}),
        "GET /w/{ws}/contacts": ("GET", f"/w/{s}/contacts", {}),
        "POST /w/{ws}/contacts": ("POST", f"/w/{s}/contacts", {"json": {
            "account_id": account["id"], "email": "probe.contact@example.test", "name": "Probe"}}),
        "GET /w/{ws}/contacts/{contact_id}": ("GET", f"/w/{s}/contacts/{contact['id']}", {}),
        "DELETE /w/{ws}/contacts/{contact_id}": ("DELETE", f"/w/{s}/contacts/{contact['id']}", {}),
        "GET /w/{ws}/deals": ("GET", f"/w/{s}/deals", {}),
        "POST /w/{ws}/deals": ("POST", f"/w/{s}/deals", {"json": {
            "account_id": account["id"], "title": "Probe deal", "amount": "10.00"}}),
        "GET /w/{ws}/deals/{deal_id}": ("GET", f"/w/{s}/deals/{deal['id']}", {}),
        "GET /w/{ws}/members": ("GET", f"/w/{s}/members", {}),
        "POST /w/{ws}/members": ("POST", f"/w/{s}/members", {"json": {
            "email": next(u["email"] for u in world.tables["users"]
                          if (ws, u["id"]) not in {(m["workspace_id"], m["user_id"])
                                                   for m in world.tables["memberships"]}), "role": "member"}}),
        "DELETE /w/{ws}/members/{user_id}": ("DELETE", f"/w/{s}/members/{other_user}", {}),
    }


def spec_operations(app) -> set[str]:
    return {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}


def test_every_tenant_operation_refuses_a_non_member_like_an_unknown_workspace(crm, world):
    login, _, foreign = admin_and_stranger(world)
    requests = tenant_requests(world, ws_id(world, foreign))
    assert set(requests) == {op for op in spec_operations(crm.app) if op.split()[1].startswith("/w/")}
    before = {t: crm.sql(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in TENANT_COLUMNS}
    for op, (method, path, kw) in requests.items():
        r = crm.call(login, method, path, **kw)
        unknown = crm.call(login, method, path.replace(f"/w/{foreign}/", "/w/no-such-workspace/", 1), **kw)
        assert (r.status_code, r.json()) == (404, {"detail": "workspace not found"}), op
        assert (unknown.status_code, unknown.json()) == (r.status_code, r.json()), op
        assert crm.client.request(method, path, **kw).status_code == 401, op  # no token at all
    assert before == {t: crm.sql(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in TENANT_COLUMNS}


def test_every_tenant_operation_works_for_an_admin_of_the_workspace(crm, world):
    ws = 1
    admin = admin_of(world, slug(world, ws))
    for op, (method, path, kw) in tenant_requests(world, ws).items():
        r = crm.call(admin, method, path, **kw)
        assert r.status_code in (200, 201, 204, 307), (op, r.status_code, r.text)


def test_foreign_ids_are_not_found_inside_ones_own_workspace(crm, world):
    s = slug(world, 1)
    login = plain_member(world, s)
    for table in ("accounts", "contacts", "deals"):
        foreign = rows(world, table, 2)[0]["id"]
        assert crm.call(login, "GET", f"/w/{s}/{table}/{foreign}").status_code == 404, table
    foreign_account = rows(world, "accounts", 2)[0]
    assert crm.call(login, "PATCH", f"/w/{s}/accounts/{foreign_account['id']}",
                    json={"name": "Hijacked"}).status_code == 404
    assert crm.call(login, "DELETE", f"/w/{s}/contacts/{rows(world, 'contacts', 2)[0]['id']}").status_code == 404
    # a child may not hang off a foreign parent
    assert crm.call(login, "POST", f"/w/{s}/deals", json={
        "account_id": foreign_account["id"], "title": "x", "amount": "1.00"}).status_code == 422
    untouched = crm.sql("SELECT name FROM accounts WHERE id = %s", [foreign_account["id"]])
    assert untouched == [{"name": foreign_account["name"]}]
    # lists show only the workspace's own rows
    for table in ("accounts", "contacts", "deals"):
        got = {r["id"] for r in crm.call(login, "GET", f"/w/{s}/{table}").json()}
        assert got == {r["id"] for r in rows(world, table, 1)}, table


def test_members_are_managed_by_admins_only(crm, world):
    s = slug(world, 1)
    admin, member = admin_of(world, s), plain_member(world, s)
    listed = crm.call(member, "GET", f"/w/{s}/members").json()
    assert {m["user_id"] for m in listed} == {m["user_id"] for m in rows(world, "memberships", 1)}
    outsider = next(u for u in world.tables["users"] if u["id"] not in {m["user_id"] for m in listed})
    body = {"email": outsider["email"], "role": "member"}
    assert crm.call(member, "POST", f"/w/{s}/members", json=body).status_code == 403
    assert crm.call(member, "DELETE", f"/w/{s}/members/{admin.user_id}").status_code == 403
    r = crm.call(admin, "POST", f"/w/{s}/members", json=body)
    assert r.status_code == 201 and r.json()["role"] == "member"
    assert crm.sql("SELECT role FROM memberships WHERE workspace_id = 1 AND user_id = %s", [outsider["id"]]) \
        == [{"role": "member"}]
    assert crm.call(admin, "POST", f"/w/{s}/members", json=body).status_code == 409
    assert crm.call(admin, "POST", f"/w/{s}/members",
                    json={"email": "nobody@example.invalid"}).status_code == 404
    assert crm.call(admin, "DELETE", f"/w/{s}/members/{admin.user_id}").status_code == 409
    assert crm.call(admin, "DELETE", f"/w/{s}/members/{outsider['id']}").status_code == 204
    assert crm.call(admin, "DELETE", f"/w/{s}/members/{outsider['id']}").status_code == 404
    assert 1 not in memberships(crm, outsider["id"])


# -- the resources -------------------------------------------------------------------------------------
def test_accounts_create_get_patch_filter(crm, world):
    s = slug(world, 1)
    login = plain_member(world, s)
    r = crm.call(login, "POST", f"/w/{s}/accounts",
                 json={"number": "NEW-0001", "name": "Brand New Ltd", "currency": "JPY", "balance": 12.5})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["balance"] == "12.50" and created["currency"] == "JPY"
    assert created["id"] == len(world.tables["accounts"]) + 1  # the advanced sequence
    assert crm.call(login, "GET", f"/w/{s}/accounts/{created['id']}").json() == created
    assert crm.call(login, "POST", f"/w/{s}/accounts",
                    json={"number": "NEW-0001", "name": "Again", "currency": "EUR"}).status_code == 409
    # the same number in another workspace is fine: numbers are unique per workspace
    other = slug(world, 2)
    assert crm.call(admin_of(world, other), "POST", f"/w/{other}/accounts",
                    json={"number": "NEW-0001", "name": "Twin", "currency": "EUR"}).status_code == 201
    assert crm.call(login, "POST", f"/w/{s}/accounts",
                    json={"number": "NEW-0002", "name": "X", "currency": "XXX"}).status_code == 422
    assert crm.call(login, "POST", f"/w/{s}/accounts",
                    json={"number": "NEW-0003", "name": "X", "currency": "EUR", "workspace_id": 2}).status_code == 422
    r = crm.call(login, "PATCH", f"/w/{s}/accounts/{created['id']}", json={"name": "Renamed", "balance": "-3.10"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["balance"] == "-3.10"
    assert crm.call(login, "PATCH", f"/w/{s}/accounts/{created['id']}", json={"name": None}).status_code == 422
    own = rows(world, "accounts", 1)
    for code in USED_CURRENCIES:
        got = crm.call(login, "GET", f"/w/{s}/accounts", params={"currency": code}).json()
        assert {a["id"] for a in got} == {a["id"] for a in own if a["currency"] == code}
    assert crm.call(login, "GET", f"/w/{s}/accounts", params={"currency": "nonsense"}).json() == []
    some = own[1]
    got = crm.call(login, "GET", f"/w/{s}/accounts", params={"q": some["name"][:6]}).json()
    assert some["id"] in {a["id"] for a in got}
    page = crm.call(login, "GET", f"/w/{s}/accounts", params={"limit": 2, "offset": 1}).json()
    assert [a["id"] for a in page] == [a["id"] for a in own][1:3]
    assert crm.call(login, "GET", f"/w/{s}/accounts", params={"q": "a\x00b"}).status_code == 422


def test_by_number_redirects_with_307(crm, world):
    s = slug(world, 1)
    login = plain_member(world, s)
    account = rows(world, "accounts", 1)[2]
    r = crm.call(login, "GET", f"/w/{s}/accounts/by-number/{account['number']}")
    assert r.status_code == 307
    assert r.headers["location"] == f"/w/{s}/accounts/{account['id']}"
    assert crm.call(login, "GET", r.headers["location"]).json()["number"] == account["number"]
    assert crm.call(login, "GET", f"/w/{s}/accounts/by-number/NO-SUCH-1").status_code == 404
    # the spec declares the redirect as the success response
    responses = crm.app.openapi()["paths"]["/w/{ws}/accounts/by-number/{number}"]["get"]["responses"]
    assert "307" in responses and "200" not in responses and "Location" in responses["307"]["headers"]


def test_contact_email_is_unique_across_the_database(crm, world):
    s = slug(world, 1)
    login = plain_member(world, s)
    account = rows(world, "accounts", 1)[0]
    body = {"account_id": account["id"], "email": "fresh.person@example.test", "name": "Fresh Person"}
    r = crm.call(login, "POST", f"/w/{s}/contacts", json=body)
    assert r.status_code == 201, r.text
    contact = r.json()
    assert crm.call(login, "POST", f"/w/{s}/contacts", json=body).status_code == 409
    # an e-mail of another workspace's contact collides too (and the answer names no workspace)
    foreign = rows(world, "contacts", 2)[0]
    r = crm.call(login, "POST", f"/w/{s}/contacts", json={**body, "email": foreign["email"]})
    assert r.status_code == 409 and r.json() == {"detail": "this e-mail address is already in use"}
    assert crm.call(login, "GET", f"/w/{s}/contacts/{contact['id']}").json() == contact
    assert crm.call(login, "GET", f"/w/{s}/contacts", params={"q": "fresh.person"}).json() == [contact]
    assert crm.call(login, "DELETE", f"/w/{s}/contacts/{contact['id']}").status_code == 204
    assert crm.call(login, "GET", f"/w/{s}/contacts/{contact['id']}").status_code == 404
    assert crm.call(login, "POST", f"/w/{s}/contacts", json=body).status_code == 201  # free again


def test_deals(crm, world):
    s = slug(world, 1)
    login = plain_member(world, s)
    account = rows(world, "accounts", 1)[0]
    r = crm.call(login, "POST", f"/w/{s}/deals",
                 json={"account_id": account["id"], "title": "Big one", "amount": "1000.5", "stage": "won"})
    assert r.status_code == 201, r.text
    deal = r.json()
    assert deal["amount"] == "1000.50"
    assert crm.call(login, "GET", f"/w/{s}/deals/{deal['id']}").json() == deal
    won = crm.call(login, "GET", f"/w/{s}/deals", params={"stage": "won"}).json()
    assert deal in won and all(d["stage"] == "won" for d in won)
    assert crm.call(login, "GET", f"/w/{s}/deals", params={"stage": "bogus"}).status_code == 422


# -- the planted leaks ---------------------------------------------------------------------------------
def test_leak_registry_names_real_operations(world):
    ops = spec_operations(create_app("postgresql://unused"))
    assert len(LEAKS) >= 4
    for name, (operations, description) in LEAKS.items():
        assert operations and set(operations) <= ops, name
        assert description, name
    with pytest.raises(ValueError, match="unknown CRM leak"):
        create_app("postgresql://unused", {"no-such-leak"})


def test_leak_members_admin_anywhere(new_db, world):
    clean, leaky = both(new_db, "members-admin-anywhere")
    # cross-tenant: an admin of A adds themself, as admin, to B where they are not even a member
    login, _, foreign = admin_and_stranger(world)
    body = {"email": login.email, "role": "admin"}
    assert clean.call(login, "POST", f"/w/{foreign}/members", json=body).status_code == 404
    r = leaky.call(login, "POST", f"/w/{foreign}/members", json=body)
    assert r.status_code == 201
    victim = ws_id(world, foreign)
    assert victim not in memberships(clean, login.user_id)
    assert victim in memberships(leaky, login.user_id)  # a new (workspace_id, user_id) row in B
    # and now the foreign workspace is theirs to read
    assert leaky.call(login, "GET", f"/w/{foreign}/contacts").status_code == 200
    # inside a tenant: a plain member of X who is an admin elsewhere gets admin powers in X
    member, where = member_admin_elsewhere(world)
    outsider = next(u for u in world.tables["users"] if where not in login_of(world, u["id"]).workspaces)
    body = {"email": outsider["email"], "role": "member"}
    assert clean.call(member, "POST", f"/w/{where}/members", json=body).status_code == 403
    assert leaky.call(member, "POST", f"/w/{where}/members", json=body).status_code == 201


def test_leak_contact_idor(new_db, world):
    clean, leaky = both(new_db, "contact-idor")
    s = slug(world, 1)
    login = plain_member(world, s)
    foreign = rows(world, "contacts", 2)[0]
    path = f"/w/{s}/contacts/{foreign['id']}"
    assert clean.call(login, "GET", path).status_code == 404
    r = leaky.call(login, "GET", path)
    assert r.status_code == 200 and r.json()["email"] == foreign["email"]
    own = rows(world, "contacts", 1)[0]  # own contacts read the same either way
    assert clean.call(login, "GET", f"/w/{s}/contacts/{own['id']}").json() == \
        leaky.call(login, "GET", f"/w/{s}/contacts/{own['id']}").json()


def test_leak_accounts_currency_unscoped(new_db, world):
    clean, leaky = both(new_db, "accounts-currency-unscoped")
    s = slug(world, 1)
    login = plain_member(world, s)
    own = {a["id"] for a in rows(world, "accounts", 1)}
    code = USED_CURRENCIES[0]
    path = f"/w/{s}/accounts"
    assert {a["id"] for a in clean.call(login, "GET", path, params={"currency": code}).json()} <= own
    leaked = leaky.call(login, "GET", path, params={"currency": code}).json()
    foreign = [a for a in leaked if a["id"] not in own]
    assert foreign and {a["number"] for a in foreign} <= {a["number"] for a in world.tables["accounts"]
                                                          if a["workspace_id"] != 1}
    # only a value from the data shows it: an unused code, a made-up one or no filter answer the same
    for params in ({"currency": "JPY"}, {"currency": "Q1"}, {}):
        assert clean.call(login, "GET", path, params=params).json() == \
            leaky.call(login, "GET", path, params=params).json(), params


def test_leak_by_number_any_workspace(new_db, world):
    clean, leaky = both(new_db, "by-number-any-workspace")
    s = slug(world, 1)
    login = plain_member(world, s)
    foreign = rows(world, "accounts", 2)[0]
    path = f"/w/{s}/accounts/by-number/{foreign['number']}"
    assert clean.call(login, "GET", path).status_code == 404
    r = leaky.call(login, "GET", path)
    assert r.status_code == 307 and r.headers["location"] == f"/w/{s}/accounts/{foreign['id']}"
    # the redirect's target is still guarded: only the Location header leaks
    assert leaky.call(login, "GET", r.headers["location"]).status_code == 404
    own = rows(world, "accounts", 1)[0]
    own_path = f"/w/{s}/accounts/by-number/{own['number']}"
    assert clean.call(login, "GET", own_path).headers["location"] == \
        leaky.call(login, "GET", own_path).headers["location"]


def test_leak_member_delete_any_workspace(new_db, world):
    clean, leaky = both(new_db, "member-delete-any-workspace")
    # a user in two workspaces, removed from one of them by an admin of that one
    victim = next(l for l in world.logins if len(l.workspaces) >= 2
                  and any(role == "member" and admin_of(world, s).user_id != l.user_id
                          for s, role in l.workspaces.items()))
    where = next(s for s, role in victim.workspaces.items() if role == "member")
    admin = admin_of(world, where)
    path = f"/w/{where}/members/{victim.user_id}"
    assert clean.call(admin, "DELETE", path).status_code == 204
    assert leaky.call(admin, "DELETE", path).status_code == 204
    others = {ws_id(world, s) for s in victim.workspaces} - {ws_id(world, where)}
    assert memberships(clean, victim.user_id) == others
    assert memberships(leaky, victim.user_id) == set()  # gone from the other workspaces too
