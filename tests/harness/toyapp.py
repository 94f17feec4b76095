"""A tiny two-table multi-tenant app with its own scenario: proves the harness needs nothing of Phoenix.

``leaky=True`` drops the tenant predicate from get-by-id (an IDOR) so tests can see the harness catch it.
``signup="clean"`` adds ``POST /signup``: a brand-new tenant with a welcome note in it (tenant creation,
no cross-tenant write); ``signup="leaky"`` writes that welcome note into the first tenant instead.
"""

from __future__ import annotations

import uuid

import psycopg
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from harness.scenario import Principal, Scenario, Tenant
from harness.world import World

DDL = """
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE notes (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants(id),
                    title text NOT NULL, body text NOT NULL DEFAULT '');
"""
TOKENS = {"token-a": "a", "token-b": "b"}


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=40)


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str = Field(min_length=1, max_length=40)


def create_app(dsn: str, tenant_ids: dict[str, str], leaky: bool = False, signup: str | None = None) -> FastAPI:
    app = FastAPI()

    def tenant(authorization: str = Header()) -> str:
        token = authorization.removeprefix("Bearer ")
        if token not in TOKENS:
            raise HTTPException(401, "bad token")
        return tenant_ids[TOKENS[token]]

    def rows(sql: str, params=()) -> list[dict]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return [dict(zip([c.name for c in cur.description], map(str, r))) for r in cur.fetchall()]

    @app.post("/login")
    def login(body: dict):
        return {"access_token": body["token"]}

    @app.get("/notes")
    def list_notes(t: str = Depends(tenant)):
        return rows("SELECT * FROM notes WHERE tenant_id = %s ORDER BY id", [t])

    @app.get("/notes/{note_id}", responses={404: {"description": "not found"}})
    def get_note(note_id: uuid.UUID, t: str = Depends(tenant)):
        sql = "SELECT * FROM notes WHERE id = %s" + ("" if leaky else " AND tenant_id = %s")
        found = rows(sql, [note_id] if leaky else [note_id, t])
        if not found:
            raise HTTPException(404, "not found")
        return found[0]

    @app.post("/notes", status_code=201)
    def create_note(note: NoteIn, t: str = Depends(tenant)):
        return rows("INSERT INTO notes (id, tenant_id, title) VALUES (%s, %s, %s) RETURNING *",
                    [uuid.uuid4(), t, note.title])[0]

    if signup:
        @app.post("/signup", status_code=201)
        def sign_up(body: SignupIn, t: str = Depends(tenant)):
            new = uuid.uuid4()
            rows("INSERT INTO tenants (id, name) VALUES (%s, %s) RETURNING id", [new, body.company])
            home = tenant_ids["a"] if signup == "leaky" else new
            rows("INSERT INTO notes (id, tenant_id, title) VALUES (%s, %s, %s) RETURNING id",
                 [uuid.uuid4(), home, f"Welcome to {body.company}"])
            return {"tenant": str(new), "company": body.company}

    return app


class ToyScenario(Scenario):
    name = "toy"
    login_path = "/login"
    skip_operations = ("POST /login",)
    rls = False  # isolation in the app's own queries only

    def __init__(self, leaky: bool = False, signup: str | None = None):
        self.leaky = leaky
        self.signup_mode = signup

    def generate_world(self, seed: int) -> World:
        ids = iter(uuid.UUID(int=seed * 1000 + i, version=4) for i in range(1, 100))
        a, b = str(next(ids)), str(next(ids))
        notes = [{"id": str(next(ids)), "tenant_id": t, "title": f"{name} note number {i} of {seed}", "body": ""}
                 for t, name in ((a, "Aardvark"), (b, "Bumblebee")) for i in range(3)]
        return World(seed, {"tenants": [{"id": a, "name": "Tenant Aardvark"}, {"id": b, "name": "Tenant Bumblebee"}],
                            "notes": notes}, {"tenants": "id", "notes": "tenant_id"})

    def install(self, admin_dsn: str) -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(DDL)

    def tenants(self, world: World):
        return [Tenant(str(t["id"]), t["name"].split()[1].lower(), t["name"]) for t in world.tables["tenants"]]

    def principals(self, world: World):
        a, b = (str(t["id"]) for t in world.tables["tenants"])
        return [Principal("aardvark:user", "user", a, frozenset({a}), {"token": "token-a"}),
                Principal("bumblebee:user", "user", b, frozenset({b}), {"token": "token-b"})]

    def create_app(self, db):
        world_tenants = self._tenant_ids(db)
        return create_app(db.admin_dsn, world_tenants, self.leaky, self.signup_mode)

    @staticmethod
    def _tenant_ids(db) -> dict[str, str]:
        with psycopg.connect(db.admin_dsn) as conn:
            rows = conn.execute("SELECT name, id::text FROM tenants").fetchall()
        return {("a" if "Aardvark" in name else "b"): tid for name, tid in rows}
