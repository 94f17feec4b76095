"""Deterministic synthetic data for Phoenix: the same seed builds the same rows, byte for byte.

Every tenant gets the whole domain (teams, users, customers, projects, tasks, invoices, …) from one
``random.Random(seed)`` and a Faker seeded from it, so runs are reproducible and twins are identical.
Identifiers that a leak would carry (UUIDs, e-mails, invoice numbers, project codes) are
high-entropy and unique to their tenant; status words and reference data are shared on purpose.

Output is plain rows (``Dataset.tables``, in foreign-key order) plus the logins of every principal;
loading them is the caller's business (the harness writes them with COPY).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker

from phoenix.passwords import hash_password

CLIENT_NAMES = ["TechCorp", "Globex", "Initech", "Umbrella", "Hooli", "Soylent", "Cyberdyne", "Wayne"]
REGIONS = ["east", "west", "north", "south", "central", "alpha", "beta", "gamma", "delta", "omega"]
CURRENCIES = [("EUR", "Euro", "€"), ("USD", "US Dollar", "$"), ("GBP", "Pound Sterling", "£"),
              ("CHF", "Swiss Franc", "CHF"), ("JPY", "Yen", "¥")]
COUNTRIES = [("DE", "Germany", "EMEA"), ("FR", "France", "EMEA"), ("GB", "United Kingdom", "EMEA"),
             ("US", "United States", "AMER"), ("CA", "Canada", "AMER"), ("JP", "Japan", "APAC"),
             ("CH", "Switzerland", "EMEA"), ("AU", "Australia", "APAC")]
PROJECT_STATUSES = ["planned", "active", "active", "on_hold", "done"]
TASK_STATUSES = ["todo", "in_progress", "review", "done"]
INVOICE_STATUSES = ["draft", "sent", "paid", "paid", "overdue", "void"]
PAY_METHODS = ["card", "transfer", "direct_debit", "cash"]
TAG_NAMES = ["urgent", "backend", "frontend", "billing", "research", "ops", "design", "legal"]
EPOCH = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    role: str
    tenant_slug: str
    client_slug: str


@dataclass
class Dataset:
    seed: int
    tables: dict[str, list[dict]] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)

    def rows(self, table: str) -> list[dict]:
        return self.tables.setdefault(table, [])


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.seen_emails: set[str] = set()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexcode(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789ABCDEF") for _ in range(n))

    def when(self, days: int = 365) -> dt.datetime:
        return EPOCH - dt.timedelta(minutes=self.rng.randrange(days * 24 * 60))

    def day(self, start: dt.date = dt.date(2025, 1, 1), span: int = 600) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange(span))

    def money(self, lo: int, hi: int) -> Decimal:
        return Decimal(self.rng.randrange(lo * 100, hi * 100)) / 100

    def email(self, domain: str) -> str:
        while True:
            local = f"{self.fake.first_name()}.{self.fake.last_name()}.{self.hexcode(4)}".lower()
            address = f"{local}@{domain}"
            if address not in self.seen_emails:
                self.seen_emails.add(address)
                return address


def generate(seed: int = 1, clients: int = 2, subsidiaries: int = 3, scale: int = 1) -> Dataset:
    """Build the world: ``clients`` clients × ``subsidiaries`` tenants each, ``scale`` × the base rows.

    Principals per tenant: a ``user`` and an ``admin``; per client: a ``corporate_admin`` whose home is
    the client's first subsidiary.
    """
    if not 1 <= clients <= len(CLIENT_NAMES) or not 1 <= subsidiaries <= len(REGIONS) or scale < 1:
        raise ValueError(f"clients must be 1..{len(CLIENT_NAMES)}, subsidiaries 1..{len(REGIONS)}, "
                         "scale >= 1")
    g = _Gen(seed)
    ds = Dataset(seed)
    ds.rows("currencies").extend({"code": c, "name": n, "symbol": s, "decimals": 0 if c == "JPY" else 2}
                                 for c, n, s in CURRENCIES)
    ds.rows("countries").extend({"code": c, "name": n, "region": r} for c, n, r in COUNTRIES)
    for ci in range(clients):
        cname = CLIENT_NAMES[ci]
        client = {"id": g.uuid(), "slug": cname.lower(), "name": f"{cname} {g.fake.company_suffix()}",
                  "created_at": g.when(900)}
        ds.rows("clients").append(client)
        for si in range(subsidiaries):
            _tenant(g, ds, client, REGIONS[si], corporate=(si == 0), scale=scale)
    # Rows are generated tenant by tenant; order the tables for foreign keys.
    order = ["currencies", "countries", "clients", "tenants", "teams", "users", "customers", "projects",
             "tasks", "tags", "task_tags", "invoices", "invoice_lines", "payments", "time_entries",
             "documents", "comments", "notifications", "audit_events", "dashboards", "widgets"]
    ds.tables = {t: ds.tables.get(t, []) for t in order}
    return ds


def _tenant(g: _Gen, ds: Dataset, client: dict, region: str, corporate: bool, scale: int) -> None:
    slug = f"{client['slug']}-{region}"
    country = g.rng.choice(COUNTRIES)[0]
    currency = g.rng.choice(CURRENCIES[:4])[0]
    tid = g.uuid()
    domain = f"{slug}-{g.hexcode(4).lower()}.example"
    code = g.hexcode(4)
    ds.rows("tenants").append({"id": tid, "client_id": client["id"], "slug": slug,
                               "name": f"{client['name'].split()[0]} {region.title()} {g.fake.city_suffix()}",
                               "country_code": country, "currency_code": currency,
                               "created_at": g.when(800)})
    teams = [{"id": g.uuid(), "tenant_id": tid, "name": f"{g.fake.color_name()} {g.fake.job().split()[0]} team",
              "description": g.fake.catch_phrase(), "created_at": g.when()} for _ in range(2)]
    ds.rows("teams").extend(teams)

    def user(role: str, password: str | None = None) -> dict:
        email = g.email(domain)
        row = {"id": g.uuid(), "tenant_id": tid, "team_id": g.rng.choice(teams)["id"], "email": email,
               "full_name": g.fake.name(), "role": role,
               "password_hash": hash_password(password or g.hexcode(16), salt=bytes.fromhex(g.hexcode(24))),
               "active": True, "created_at": g.when()}
        ds.rows("users").append(row)
        if password:
            ds.logins.append(Login(email, password, role, slug, client["slug"]))
        return row

    users = [user("user", f"pw-{slug}-user-{g.hexcode(6).lower()}"),
             user("admin", f"pw-{slug}-admin-{g.hexcode(6).lower()}")]
    if corporate:
        users.append(user("corporate_admin", f"pw-{client['slug']}-corporate-{g.hexcode(6).lower()}"))
    users += [user(g.rng.choice(["user", "user", "admin"])) for _ in range(3 * scale)]

    customers = []
    for _ in range(6 * scale):
        company = g.fake.company()
        customers.append({"id": g.uuid(), "tenant_id": tid, "name": f"{company} {g.hexcode(3)}",
                          "email": g.email(f"{company.split()[0].lower().strip(',')}-{g.hexcode(3).lower()}.example"),
                          "phone": g.fake.numerify("+1-###-###-####"), "country_code": g.rng.choice(COUNTRIES)[0],
                          "vat_number": f"VAT{g.hexcode(10)}", "segment": g.rng.choice(["smb", "mid_market", "enterprise"]),
                          "created_at": g.when()})
    ds.rows("customers").extend(customers)

    projects, tasks = [], []
    for pi in range(5 * scale):
        start = g.day()
        projects.append({"id": g.uuid(), "tenant_id": tid, "customer_id": g.rng.choice(customers)["id"],
                         "owner_id": g.rng.choice(users)["id"], "code": f"PRJ-{code}-{g.hexcode(5)}",
                         "name": f"{g.fake.bs().title()} {g.hexcode(3)}",
                         "status": g.rng.choice(PROJECT_STATUSES), "budget": g.money(5_000, 250_000),
                         "currency_code": currency, "starts_on": start,
                         "ends_on": start + dt.timedelta(days=g.rng.randrange(30, 400)) if g.rng.random() < .7 else None,
                         "created_at": g.when()})
    ds.rows("projects").extend(projects)
    for p in projects:
        for _ in range(4):
            tasks.append({"id": g.uuid(), "tenant_id": tid, "project_id": p["id"],
                          "assignee_id": g.rng.choice(users)["id"] if g.rng.random() < .85 else None,
                          "title": f"{g.fake.catch_phrase()} #{g.hexcode(4)}",
                          "description": g.fake.sentence(nb_words=10),
                          "status": g.rng.choice(TASK_STATUSES), "priority": g.rng.randint(1, 4),
                          "estimate_hours": g.money(1, 40), "due_on": g.day() if g.rng.random() < .8 else None,
                          "created_at": g.when()})
    ds.rows("tasks").extend(tasks)

    tags = [{"id": g.uuid(), "tenant_id": tid, "name": name, "color": "#" + g.hexcode(6).lower()}
            for name in g.rng.sample(TAG_NAMES, 4)]
    ds.rows("tags").extend(tags)
    for t in tasks:
        for tag in g.rng.sample(tags, g.rng.randint(0, 2)):
            ds.rows("task_tags").append({"id": g.uuid(), "tenant_id": tid, "task_id": t["id"], "tag_id": tag["id"]})

    for n in range(1, 8 * scale + 1):
        issued = g.day()
        inv = {"id": g.uuid(), "tenant_id": tid, "customer_id": g.rng.choice(customers)["id"],
               "project_id": g.rng.choice(projects)["id"] if g.rng.random() < .8 else None,
               "number": f"INV-{code}-{n:05d}", "status": g.rng.choice(INVOICE_STATUSES),
               "currency_code": currency, "issued_on": issued,
               "due_on": issued + dt.timedelta(days=g.rng.choice([14, 30, 45, 60])), "total": Decimal(0),
               "created_at": g.when()}
        total = Decimal(0)
        for _ in range(g.rng.randint(1, 3)):
            qty, price = Decimal(g.rng.randint(1, 20)), g.money(50, 2_000)
            total += qty * price
            ds.rows("invoice_lines").append({"id": g.uuid(), "tenant_id": tid, "invoice_id": inv["id"],
                                             "description": f"{g.fake.bs().capitalize()} ({g.hexcode(4)})",
                                             "quantity": qty, "unit_price": price, "amount": qty * price})
        inv["total"] = total
        ds.rows("invoices").append(inv)
        if inv["status"] in ("paid", "overdue", "sent") and g.rng.random() < .8:
            share = total if inv["status"] == "paid" else (total / 2).quantize(Decimal("0.01"))
            ds.rows("payments").append({"id": g.uuid(), "tenant_id": tid, "invoice_id": inv["id"], "amount": share,
                                        "currency_code": currency, "paid_on": issued + dt.timedelta(days=g.rng.randrange(1, 60)),
                                        "method": g.rng.choice(PAY_METHODS), "reference": f"PAY-{g.hexcode(10)}"})

    for _ in range(20 * scale):
        t = g.rng.choice(tasks)
        ds.rows("time_entries").append({"id": g.uuid(), "tenant_id": tid, "user_id": g.rng.choice(users)["id"],
                                        "project_id": t["project_id"], "task_id": t["id"], "spent_on": g.day(),
                                        "hours": Decimal(g.rng.randint(1, 32)) / 4, "billable": g.rng.random() < .75,
                                        "note": g.fake.sentence(nb_words=6)})
    for _ in range(5 * scale):
        title = f"{g.fake.catch_phrase()} {g.hexcode(4)}"
        ds.rows("documents").append({"id": g.uuid(), "tenant_id": tid, "project_id": g.rng.choice(projects)["id"],
                                     "created_by": g.rng.choice(users)["id"], "title": title,
                                     "filename": f"{g.fake.file_name(extension='pdf').removesuffix('.pdf')}-{g.hexcode(6).lower()}.pdf",
                                     "content_type": "application/pdf", "size_bytes": g.rng.randrange(10_000, 5_000_000),
                                     "created_at": g.when()})
    for _ in range(10 * scale):
        ds.rows("comments").append({"id": g.uuid(), "tenant_id": tid, "task_id": g.rng.choice(tasks)["id"],
                                    "author_id": g.rng.choice(users)["id"],
                                    "body": f"{g.fake.sentence(nb_words=12)} [{g.hexcode(6)}]", "created_at": g.when()})
    logins = users[:3 if corporate else 2]
    for i in range(8 * scale):
        # Every principal who can log in has a few notifications of its own to read and mark.
        u = logins[i % len(logins)] if i < 2 * len(logins) else g.rng.choice(users)
        created = g.when(60)
        ds.rows("notifications").append({"id": g.uuid(), "tenant_id": tid, "user_id": u["id"],
                                         "kind": g.rng.choice(["mention", "assignment", "invoice", "system"]),
                                         "message": f"{g.fake.sentence(nb_words=8)} ({g.hexcode(5)})",
                                         "read_at": created + dt.timedelta(hours=3) if g.rng.random() < .5 else None,
                                         "created_at": created})
    for _ in range(10 * scale):
        p = g.rng.choice(projects)
        ds.rows("audit_events").append({"id": g.uuid(), "tenant_id": tid, "actor_id": g.rng.choice(users)["id"],
                                        "action": g.rng.choice(["create", "update", "delete", "login", "export"]),
                                        "entity": "project", "entity_id": p["id"],
                                        "summary": f"{p['code']} {g.fake.sentence(nb_words=5)}", "created_at": g.when(90)})
    for i in range(2):  # the first is the subsidiary's shared overview; the second may be private
        d = {"id": g.uuid(), "tenant_id": tid, "owner_id": g.rng.choice(users)["id"],
             "name": f"{g.fake.word().title()} overview {g.hexcode(4)}", "is_shared": i == 0 or g.rng.random() < .5,
             "created_at": g.when()}
        ds.rows("dashboards").append(d)
        for pos in range(3):
            ds.rows("widgets").append({"id": g.uuid(), "tenant_id": tid, "dashboard_id": d["id"],
                                       "kind": g.rng.choice(["kpi", "chart", "table", "feed"]),
                                       "title": f"{g.fake.word().title()} {g.hexcode(4)}", "config": "{}",
                                       "position": pos})
