"""A small helpdesk (tickets, agents, a report) with one switchable leak per search-depth class.

Not Phoenix, and shaped differently: pages follow a ``Link: rel="next"`` header, ticket codes are
unique per tenant, the report has one enum parameter. Each leak sits one step beyond a plain sweep:

- ``filter-branch``: ``GET /tickets?channel=phone`` reads the legacy phone queue without the tenant;
- ``later-page``: ``GET /tickets`` pages after the first (``offset`` > 0) are read without the tenant;
- ``report-branch``: the ``ticket_stats`` report with ``group=assignee`` lists every tenant's agents;
- ``existence-status``: ``GET /tickets/{id}`` answers 403 for another tenant's ticket, 404 for none;
- ``unique-across-tenants``: ``POST /tickets`` answers 409 when *any* tenant already uses the code;
- ``foreign-reference``: ``PATCH /tickets/{id}`` stores another tenant's agent as ``assignee_id``.
"""

from __future__ import annotations

import enum
import uuid

import psycopg
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from harness.scenario import Principal, Query as ReportQuery, QueryParam, Scenario, Tenant
from harness.world import World

LEAKS = ("filter-branch", "later-page", "report-branch", "existence-status", "unique-across-tenants",
         "foreign-reference")
SLUGS = ("amber", "basalt", "cobalt")
NAMES = {"amber": ("Ottoline Vexworth", "Percival Quandry"), "basalt": ("Sigrun Thalmassey", "Ignatius Brevik"),
         "cobalt": ("Marguerite Osterlund", "Thaddeus Wrenfield")}

DDL = """
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE agents (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants(id),
                     name text NOT NULL, email text NOT NULL);
CREATE TABLE tickets (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants(id),
                      code text NOT NULL, subject text NOT NULL, channel text NOT NULL,
                      assignee_id uuid REFERENCES agents(id), UNIQUE (tenant_id, code));
"""


class Channel(str, enum.Enum):
    email = "email"
    chat = "chat"
    phone = "phone"


class Group(str, enum.Enum):
    channel = "channel"
    assignee = "assignee"


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=80)
    code: str = Field(pattern=r"^[A-Z]{2}-[0-9]{3}$")
    channel: Channel = Channel.email
    assignee_id: uuid.UUID | None = None


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(None, min_length=1, max_length=80)
    assignee_id: uuid.UUID | None = None


class StatsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: Group = Group.channel


def ticket_stats(conn, tenant: str, group: str, leaky: bool) -> list[dict]:
    """The report, as the app and the scenario run it."""
    if group == "assignee":
        where = "" if leaky else "WHERE a.tenant_id = %(t)s"
        sql = (f"SELECT a.id::text AS agent_id, a.name AS bucket, count(t.id) AS tickets FROM agents a "
               f"LEFT JOIN tickets t ON t.assignee_id = a.id AND t.tenant_id = %(t)s {where} "
               f"GROUP BY a.id, a.name ORDER BY a.name")
    else:
        sql = ("SELECT channel AS bucket, count(*) AS tickets FROM tickets WHERE tenant_id = %(t)s "
               "GROUP BY channel ORDER BY channel")
    cur = conn.execute(sql, {"t": tenant})
    return [dict(zip([c.name for c in cur.description], r)) for r in cur.fetchall()]


def create_app(dsn: str, tokens: dict[str, str], leaks: frozenset[str] = frozenset()) -> FastAPI:
    app = FastAPI()

    def tenant(authorization: str = Header()) -> str:
        token = authorization.removeprefix("Bearer ")
        if token not in tokens:
            raise HTTPException(401, "bad token")
        return tokens[token]

    def rows(sql: str, params=()) -> list[dict]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            cur = conn.execute(sql, params)
            if cur.description is None:
                return []
            return [dict(zip([c.name for c in cur.description], (None if v is None else str(v) for v in r)))
                    for r in cur.fetchall()]

    def own_agent(agent_id, t: str) -> None:
        if agent_id is not None and not rows("SELECT 1 FROM agents WHERE id = %s AND tenant_id = %s", [agent_id, t]):
            raise HTTPException(404, "agent not found")

    @app.post("/login")
    def login(body: dict):
        return {"access_token": body["token"]}

    @app.get("/agents")
    def list_agents(t: str = Depends(tenant)):
        return {"items": rows("SELECT id, name, email FROM agents WHERE tenant_id = %s ORDER BY name", [t])}

    @app.get("/tickets")
    def list_tickets(response: Response, t: str = Depends(tenant), channel: Channel | None = None,
                     limit: int = Query(20, ge=1, le=50), offset: int = Query(0, ge=0, le=10_000)):
        scoped = not (("filter-branch" in leaks and channel == Channel.phone)
                      or ("later-page" in leaks and offset > 0))
        where, args = (["tenant_id = %s"], [t]) if scoped else ([], [])
        if channel is not None:
            where.append("channel = %s")
            args.append(channel.value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = int(rows(f"SELECT count(*) AS n FROM tickets {clause}", args)[0]["n"])
        items = rows(f"SELECT id, code, subject, channel, assignee_id FROM tickets {clause} "
                     f"ORDER BY code LIMIT %s OFFSET %s", [*args, limit, offset])
        if offset + len(items) < total:
            nxt = f"/tickets?limit={limit}&offset={offset + len(items)}" + (f"&channel={channel.value}" if channel else "")
            response.headers["Link"] = f'<{nxt}>; rel="next"'
        return {"items": items, "total": total}

    @app.get("/tickets/{ticket_id}", responses={403: {"description": "forbidden"}, 404: {"description": "none"}})
    def get_ticket(ticket_id: uuid.UUID, t: str = Depends(tenant)):
        found = rows("SELECT * FROM tickets WHERE id = %s AND tenant_id = %s", [ticket_id, t])
        if found:
            return found[0]
        if "existence-status" in leaks and rows("SELECT 1 FROM tickets WHERE id = %s", [ticket_id]):
            raise HTTPException(403, "not yours")
        raise HTTPException(404, "ticket not found")

    @app.post("/tickets", status_code=201, responses={409: {"description": "code in use"}})
    def create_ticket(ticket: TicketIn, t: str = Depends(tenant)):
        own_agent(ticket.assignee_id, t)
        scope, args = ("", [ticket.code]) if "unique-across-tenants" in leaks else (" AND tenant_id = %s",
                                                                                    [ticket.code, t])
        if rows("SELECT 1 FROM tickets WHERE code = %s" + scope, args):
            raise HTTPException(409, "code already in use")
        return rows("INSERT INTO tickets (id, tenant_id, code, subject, channel, assignee_id) "
                    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                    [uuid.uuid4(), t, ticket.code, ticket.subject, ticket.channel.value, ticket.assignee_id])[0]

    @app.patch("/tickets/{ticket_id}", responses={404: {"description": "none"}})
    def update_ticket(ticket_id: uuid.UUID, patch: TicketPatch, t: str = Depends(tenant)):
        if "foreign-reference" not in leaks:
            own_agent(patch.assignee_id, t)
        values = patch.model_dump(exclude_unset=True)
        sets = ", ".join(f"{k} = %s" for k in values) or "subject = subject"
        found = rows(f"UPDATE tickets SET {sets} WHERE id = %s AND tenant_id = %s RETURNING *",
                     [*values.values(), ticket_id, t])
        if not found:
            raise HTTPException(404, "ticket not found")
        return found[0]

    @app.post("/reports/ticket_stats")
    def stats(body: StatsIn, t: str = Depends(tenant)):
        with psycopg.connect(dsn, autocommit=True) as conn:
            data = ticket_stats(conn, t, body.group.value, "report-branch" in leaks)
        return {"rows": [{k: (str(v) if v is not None else None) for k, v in r.items()} for r in data]}

    return app


class DepthScenario(Scenario):
    name = "depth"
    login_path = "/login"
    skip_operations = ("POST /login",)
    rls = False
    resource_aliases = {"assignee_id": "agents"}

    def __init__(self, leaks=()):
        unknown = set(leaks) - set(LEAKS)
        if unknown:
            raise ValueError(f"unknown leak(s) {sorted(unknown)}: choose from {', '.join(LEAKS)}")
        self.leaks = frozenset(leaks)

    def generate_world(self, seed: int) -> World:
        ids = iter(uuid.UUID(int=seed * 100_000 + i, version=4) for i in range(1, 10_000))
        tenants, agents, tickets = [], [], []
        for n, slug in enumerate(SLUGS):
            tid = str(next(ids))
            tenants.append({"id": tid, "name": f"Tenant {slug}"})
            mine = []
            for name in NAMES[slug]:
                mine.append(str(next(ids)))
                agents.append({"id": mine[-1], "tenant_id": tid, "name": name,
                               "email": f"{name.split()[0].lower()}.{seed}@{slug}-desk.example"})
            for i in range(5):  # codes interleave across tenants, so any page of all tenants mixes them
                tickets.append({"id": str(next(ids)), "tenant_id": tid, "code": f"TK-{100 + 3 * i + n}",
                                "subject": f"{slug.title()} printer jam number {i} of {seed}",
                                "channel": ("email", "chat", "phone")[i % 3], "assignee_id": mine[i % 2]})
        return World(seed, {"tenants": tenants, "agents": agents, "tickets": tickets},
                     {"tenants": "id", "agents": "tenant_id", "tickets": "tenant_id"})

    def install(self, admin_dsn: str) -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(DDL)

    def tenants(self, world: World):
        return [Tenant(t["id"], t["name"].split()[1], t["name"].split()[1]) for t in world.tables["tenants"]]

    def principals(self, world: World):
        return [Principal(f"{t.slug}:agent", "agent", t.id, frozenset({t.id}), {"token": f"token-{t.slug}"})
                for t in self.tenants(world)]

    def queries(self):
        return [ReportQuery("ticket_stats", (QueryParam("group", "enum", default="channel",
                                                        choices=("channel", "assignee")),),
                            ("agent",), ("POST", "/reports/ticket_stats"))]

    def run_query(self, db, query, params: dict, principal: Principal) -> list[dict]:
        with psycopg.connect(db.admin_dsn, autocommit=True) as conn:
            return ticket_stats(conn, principal.tenant, params.get("group", "channel"), "report-branch" in self.leaks)

    def create_app(self, db):
        with psycopg.connect(db.admin_dsn) as conn:
            names = dict(conn.execute("SELECT name, id::text FROM tenants").fetchall())
        tokens = {f"token-{slug}": names[f"Tenant {slug}"] for slug in SLUGS}
        return create_app(db.admin_dsn, tokens, self.leaks)
