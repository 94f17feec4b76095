"""The CRM's world: workspaces, users in several of them, accounts, contacts and deals, from one seed.

Rows carry explicit integer ids (1, 2, 3… per table, interleaved across workspaces) and are written with
COPY, which leaves the tables' sequences at 1: whoever writes them must advance the sequences
(:data:`crm_app.SERIAL_TABLES`) before the app inserts anything, or its first INSERT collides with
row 1.

Memberships, for ``workspaces=n`` and ``users=k`` (k users *per workspace*, n*k users in all), each
user having a home workspace:

- home user 0 is the home's admin, and a *member* of the next workspace;
- home user 1 is a member at home, and an *admin* of the workspace after next (the next one if n = 2);
- the others are members of their home only.

So with n >= 2 several users belong to two workspaces with different roles in each, every workspace has
at least one admin, and an admin of one workspace is not a member of every other (for n >= 3).
Accounts use the currencies EUR, USD and GBP (every workspace uses each of them once it has three
accounts); the ``currencies`` table also lists codes no row uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker

from tests.shapes.crm_app import STAGES, hash_password, install  # noqa: F401  (install re-exported)

CURRENCIES = (("CHF", "Swiss franc"), ("EUR", "Euro"), ("GBP", "Pound sterling"), ("JPY", "Japanese yen"),
              ("SEK", "Swedish krona"), ("USD", "US dollar"))
USED_CURRENCIES = ("EUR", "USD", "GBP")

#: The column naming each table's owning workspace (None: global). ``users`` are global: a user belongs
#: to every workspace of their memberships, so a user's e-mail is shared by those workspaces.
TENANT_COLUMNS: dict[str, str | None] = {
    "currencies": None, "workspaces": "id", "users": None, "memberships": "workspace_id",
    "accounts": "workspace_id", "contacts": "workspace_id", "deals": "workspace_id",
}


@dataclass(frozen=True)
class Login:
    user_id: int
    email: str
    password: str
    name: str
    #: slug -> role, for every workspace the user belongs to.
    workspaces: dict[str, str] = field(hash=False)


@dataclass
class CrmWorld:
    seed: int
    #: table -> rows, in foreign-key order (feed it to ``harness.world.write_tables``).
    tables: dict[str, list[dict]]
    logins: list[Login]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "ws"


def _money(fake: Faker, low: int, high: int) -> Decimal:
    cents = fake.random.randint(low * 100, high * 100)
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    return Decimal(f"{sign}{cents // 100}.{cents % 100:02d}")


def generate(seed: int, workspaces: int = 3, users: int = 4, *, accounts: int = 4, contacts: int = 5,
             deals: int = 4) -> CrmWorld:
    """The world of ``seed``: the same arguments give the same rows and logins, byte for byte."""
    if workspaces < 1 or users < 1 or accounts < 1:
        raise ValueError("a CRM world needs at least one workspace, one user and one account per workspace")
    fake = Faker("en_US")
    fake.seed_instance(seed)

    ws_rows: list[dict] = []
    for i in range(workspaces):
        name = fake.unique.company()
        slug = _slug(name)
        if any(w["slug"] == slug for w in ws_rows):
            slug = f"{slug}-{i + 1}"
        ws_rows.append({"id": i + 1, "slug": slug, "name": name})

    user_rows, passwords = [], {}
    home: dict[int, list[int]] = {}  # workspace id -> its home users' ids, in order
    for i, ws in enumerate(ws_rows):
        for _ in range(users):
            uid = len(user_rows) + 1
            password = fake.password(length=16, special_chars=False)
            salt = fake.random.getrandbits(64).to_bytes(8, "big")
            user_rows.append({"id": uid, "email": fake.unique.email(), "name": fake.name(),
                              "password_hash": hash_password(password, salt)})
            passwords[uid] = password
            home.setdefault(ws["id"], []).append(uid)

    roles: dict[tuple[int, int], str] = {}
    n = workspaces
    for i, ws in enumerate(ws_rows):
        people = home[ws["id"]]
        for j, uid in enumerate(people):
            roles[(ws["id"], uid)] = "admin" if j == 0 else "member"
        if n >= 2:
            roles[(ws_rows[(i + 1) % n]["id"], people[0])] = "member"
            if len(people) >= 2:
                roles[(ws_rows[(i + 2) % n if n >= 3 else (i + 1) % n]["id"], people[1])] = "admin"
    membership_rows = [{"workspace_id": w, "user_id": u, "role": r} for (w, u), r in sorted(roles.items())]

    account_rows: list[dict] = []
    by_ws: dict[int, list[int]] = {ws["id"]: [] for ws in ws_rows}
    for j in range(accounts):  # round-robin: ids of different workspaces interleave
        for i, ws in enumerate(ws_rows):
            aid = len(account_rows) + 1
            account_rows.append({
                "id": aid, "workspace_id": ws["id"],
                "number": fake.unique.bothify("AC-####-???", letters="ABCDEFGHJKLMNPQRSTUVWXYZ"),
                "name": fake.unique.company(), "currency": USED_CURRENCIES[(i + j) % len(USED_CURRENCIES)],
                "balance": _money(fake, -5_000, 250_000)})
            by_ws[ws["id"]].append(aid)

    contact_rows: list[dict] = []
    for j in range(contacts):
        for ws in ws_rows:
            own = by_ws[ws["id"]]
            contact_rows.append({"id": len(contact_rows) + 1, "workspace_id": ws["id"],
                                 "account_id": own[j % len(own)], "email": fake.unique.email(),
                                 "name": fake.name()})

    deal_rows: list[dict] = []
    for j in range(deals):
        for ws in ws_rows:
            own = by_ws[ws["id"]]
            deal_rows.append({"id": len(deal_rows) + 1, "workspace_id": ws["id"],
                              "account_id": own[(j * 3 + 1) % len(own)], "title": fake.unique.catch_phrase(),
                              "amount": _money(fake, 500, 400_000), "stage": fake.random.choice(STAGES)})

    tables = {
        "currencies": [{"code": c, "name": name} for c, name in CURRENCIES],
        "workspaces": ws_rows,
        "users": user_rows,
        "memberships": membership_rows,
        "accounts": account_rows,
        "contacts": contact_rows,
        "deals": deal_rows,
    }
    slug_of = {ws["id"]: ws["slug"] for ws in ws_rows}
    logins = [Login(u["id"], u["email"], passwords[u["id"]], u["name"],
                    {slug_of[m["workspace_id"]]: m["role"] for m in membership_rows if m["user_id"] == u["id"]})
              for u in user_rows]
    return CrmWorld(seed, tables, logins)


def generate_world(seed: int, workspaces: int = 3, users: int = 4, **sizes) -> dict[str, list[dict]]:
    """Only the rows of :func:`generate` (table -> rows, in foreign-key order)."""
    return generate(seed, workspaces, users, **sizes).tables


def logins(seed: int, workspaces: int = 3, users: int = 4, **sizes) -> list[Login]:
    """Only the logins of :func:`generate`: e-mail, password and workspaces (slug -> role) per user."""
    return generate(seed, workspaces, users, **sizes).logins
