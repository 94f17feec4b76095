"""A tiny inventory app whose leaks are numbers, headers and statuses: non-interference's test target.

Not Phoenix, and shaped for what non-interference must get right: serial integer ids, a membership
table with a composite key, a user in two tenants that are not one "client", a handful of rows per
tenant (2, 3, and a tenant with a single row). No row of another tenant is ever returned; each leak,
switched on by name, only lets a number move with other tenants' data:

- ``total-header``: ``GET /items`` counts its ``X-Total-Count`` header over every tenant (the body is right);
- ``last-modified``: ``GET /items`` dates its ``Last-Modified`` header by every tenant's newest item;
- ``few-rows-count``: ``GET /items/summary`` counts every tenant's items (6 rows in all);
- ``quota``: ``POST /items`` checks the plan's 10 items against every tenant's items (201 or 409).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from email.utils import format_datetime

import psycopg
from fastapi import Depends, FastAPI, Header, HTTPException, Response
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from harness.scenario import Principal, Scenario, Tenant
from harness.world import World

LEAKS = ("total-header", "last-modified", "few-rows-count", "quota")
QUOTA = 10
DDL = """
CREATE TABLE tenants (id serial PRIMARY KEY, slug text NOT NULL UNIQUE);
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, token text NOT NULL UNIQUE);
CREATE TABLE memberships (tenant_id integer NOT NULL REFERENCES tenants(id),
                          user_id integer NOT NULL REFERENCES users(id),
                          role text NOT NULL, PRIMARY KEY (tenant_id, user_id));
CREATE TABLE items (id serial PRIMARY KEY, tenant_id integer NOT NULL REFERENCES tenants(id),
                    name text NOT NULL, qty integer NOT NULL CHECK (qty >= 0),
                    updated_at timestamptz NOT NULL DEFAULT now());
"""
#: slug -> its items' quantities: 2 rows, 3 rows, and a tenant with a single row.
STOCK = {"alder": (4, 7), "birch": (1, 2, 9), "cedar": (5,)}
#: user -> the tenants it belongs to (bob is in two, which are not one client).
MEMBERS = {"ann": ("alder",), "bob": ("alder", "birch"), "cat": ("cedar",), "dan": ("birch",)}


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    qty: int = Field(ge=0, le=1000)


class ItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    qty: int = Field(ge=0, le=1000)


def create_app(dsn: str, leaks=frozenset()) -> FastAPI:
    leaks = frozenset(leaks)
    lock, conns = threading.Lock(), []

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        for conn in conns:
            conn.close()

    app = FastAPI(lifespan=lifespan)

    def rows(statement: str, params=()) -> list[dict]:
        with lock:  # one connection, one statement at a time: enough for a test target, and fast
            if not conns or conns[0].closed:
                conns[:] = [psycopg.connect(dsn, autocommit=True, row_factory=dict_row)]
            cur = conns[0].execute(statement, params)
            return cur.fetchall() if cur.description else []

    def user(authorization: str = Header()) -> dict:
        found = rows("SELECT id, array_agg(m.tenant_id ORDER BY m.tenant_id) AS tenants FROM users u "
                     "JOIN memberships m ON m.user_id = u.id WHERE u.token = %s GROUP BY u.id",
                     [authorization.removeprefix("Bearer ")])
        if not found:
            raise HTTPException(401, "bad token")
        return found[0]

    def item_out(row: dict) -> dict:
        return {**row, "updated_at": row["updated_at"].isoformat()}

    @app.post("/login")
    def login(body: dict):
        return {"access_token": body["token"]}

    @app.get("/items")
    def list_items(response: Response, u: dict = Depends(user)):
        items = rows("SELECT * FROM items WHERE tenant_id = ANY(%s) ORDER BY id", [u["tenants"]])
        scope = "true" if "total-header" in leaks else "tenant_id = ANY(%(t)s)"
        total = rows(f"SELECT count(*) AS n FROM items WHERE {scope}", {"t": u["tenants"]})[0]["n"]
        scope = "true" if "last-modified" in leaks else "tenant_id = ANY(%(t)s)"
        newest = rows(f"SELECT max(updated_at) AS m FROM items WHERE {scope}", {"t": u["tenants"]})[0]["m"]
        response.headers["X-Total-Count"] = str(total)
        if newest is not None:
            response.headers["Last-Modified"] = format_datetime(newest.astimezone(dt.timezone.utc), usegmt=True)
        return {"items": [item_out(r) for r in items], "total": len(items)}

    @app.get("/items/summary")
    def summary(u: dict = Depends(user)):
        scope = "true" if "few-rows-count" in leaks else "tenant_id = ANY(%(t)s)"
        count = rows(f"SELECT count(*) AS n FROM items WHERE {scope}", {"t": u["tenants"]})[0]["n"]
        qty = rows("SELECT coalesce(sum(qty), 0) AS q FROM items WHERE tenant_id = ANY(%s)", [u["tenants"]])[0]["q"]
        return {"count": count, "qty": qty}

    @app.get("/items/{item_id}", responses={404: {"description": "not found"}})
    def get_item(item_id: int, u: dict = Depends(user)):
        found = rows("SELECT * FROM items WHERE id = %s AND tenant_id = ANY(%s)", [item_id, u["tenants"]])
        if not found:
            raise HTTPException(404, "not found")
        return item_out(found[0])

    @app.post("/items", status_code=201, responses={409: {"description": "the plan's item quota is used up"}})
    def create_item(body: ItemIn, u: dict = Depends(user)):
        home = u["tenants"][0]
        scope = "true" if "quota" in leaks else "tenant_id = %(t)s"
        if rows(f"SELECT count(*) AS n FROM items WHERE {scope}", {"t": home})[0]["n"] >= QUOTA:
            raise HTTPException(409, f"the plan allows {QUOTA} items")
        return item_out(rows("INSERT INTO items (tenant_id, name, qty) VALUES (%s, %s, %s) RETURNING *",
                             [home, body.name, body.qty])[0])

    @app.patch("/items/{item_id}", responses={404: {"description": "not found"}})
    def update_item(item_id: int, body: ItemPatch, u: dict = Depends(user)):
        found = rows("UPDATE items SET qty = %s, updated_at = now() WHERE id = %s AND tenant_id = ANY(%s) "
                     "RETURNING *", [body.qty, item_id, u["tenants"]])
        if not found:
            raise HTTPException(404, "not found")
        return item_out(found[0])

    @app.delete("/items/{item_id}", status_code=204, responses={404: {"description": "not found"}})
    def delete_item(item_id: int, u: dict = Depends(user)):
        if not rows("DELETE FROM items WHERE id = %s AND tenant_id = ANY(%s) RETURNING id", [item_id, u["tenants"]]):
            raise HTTPException(404, "not found")
        return Response(status_code=204)

    @app.get("/members")
    def members(u: dict = Depends(user)):
        return rows("SELECT m.tenant_id, m.user_id, m.role, us.name FROM memberships m JOIN users us "
                    "ON us.id = m.user_id WHERE m.tenant_id = ANY(%s) ORDER BY 1, 2", [u["tenants"]])

    return app


class CountScenario(Scenario):
    name = "count"
    login_path = "/login"
    skip_operations = ("POST /login",)
    rls = False  # isolation in the app's own queries only

    def __init__(self, leaks=()):
        unknown = set(leaks) - set(LEAKS)
        if unknown:
            raise ValueError(f"unknown leak(s) {sorted(unknown)}: choose from {LEAKS}")
        self.leaks = frozenset(leaks)

    def generate_world(self, seed: int) -> World:
        slugs = list(STOCK)
        tenants = [{"id": i + 1, "slug": s} for i, s in enumerate(slugs)]
        users = [{"id": i + 1, "name": f"{n.title()} Quillfeather{seed}", "token": f"tok-{n}-{seed}"}
                 for i, n in enumerate(MEMBERS)]
        members = [{"tenant_id": slugs.index(s) + 1, "user_id": i + 1, "role": "member"}
                   for i, n in enumerate(MEMBERS) for s in MEMBERS[n]]
        stamp = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        items, n = [], 0
        for t, slug in enumerate(slugs):  # cedar's single item is the newest of all
            for j, qty in enumerate(STOCK[slug]):
                n += 1
                items.append({"id": n, "tenant_id": t + 1, "name": f"{slug.title()} crate {j} lot{seed}x{n}",
                              "qty": qty, "updated_at": stamp + dt.timedelta(days=n)})
        return World(seed, {"tenants": tenants, "users": users, "memberships": members, "items": items},
                     {"tenants": "id", "users": None, "memberships": "tenant_id", "items": "tenant_id"},
                     meta={"members": MEMBERS})

    def install(self, admin_dsn: str) -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(DDL)

    def tenants(self, world: World):
        # Each tenant its own "client": what a principal sees is its memberships, nothing else.
        return [Tenant(str(t["id"]), t["slug"], t["slug"]) for t in world.tables["tenants"]]

    def principals(self, world: World):
        ids = {t["slug"]: str(t["id"]) for t in world.tables["tenants"]}
        out = []
        for u in world.tables["users"]:
            short = u["token"].split("-")[1]
            visible = frozenset(ids[s] for s in MEMBERS[short])
            out.append(Principal(f"{short}:member", "member", ids[MEMBERS[short][0]], visible,
                                 {"token": u["token"]}))
        return out

    def create_app(self, db):
        return create_app(db.admin_dsn, self.leaks)
