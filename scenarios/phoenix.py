"""The Phoenix scenario: the reference target, scanned in-process on the harness's database.

Two clients (TechCorp, Globex) × three subsidiaries; in every subsidiary a ``user`` and an ``admin``,
and per client a ``corporate_admin`` who may read every subsidiary of its own client: 14 principals.
This file may import ``phoenix`` (it describes the target); ``harness/`` never does.
"""

from __future__ import annotations

import os
import threading

import psycopg

from harness.scenario import Database, Principal, Query, QueryParam, Scenario, Tenant
from harness.world import World
from phoenix import install, seed as seeding

TENANT_COLUMNS = {table: "tenant_id" for table in install.TENANT_TABLES}
TENANT_COLUMNS.update({"tenants": "id", "clients": None, "currencies": None, "countries": None})


class PhoenixScenario(Scenario):
    name = "phoenix"
    path_prefixes = ("/api/dashboard/", "/api/reports")
    app_role = install.APP_ROLE
    resource_aliases = {"assignee_id": "users", "owner_id": "users", "author_id": "users",
                        "actor_id": "users", "created_by": "users"}

    def __init__(self, clients: int = 2, subsidiaries: int = 3, scale: int = 1):
        self.clients = int(os.environ.get("PHOENIX_CLIENTS", clients))
        self.subsidiaries = int(os.environ.get("PHOENIX_SUBSIDIARIES", subsidiaries))
        self.scale = scale
        self._conns: dict[str, psycopg.Connection] = {}
        self._lock = threading.Lock()

    # -- world ---------------------------------------------------------------------------------------------
    def generate_world(self, seed: int) -> World:
        ds = seeding.generate(seed, clients=self.clients, subsidiaries=self.subsidiaries, scale=self.scale)
        by_client: dict[str, list[str]] = {}
        for t in ds.tables["tenants"]:
            by_client.setdefault(str(t["client_id"]), []).append(str(t["id"]))
        return World(seed, ds.tables, dict(TENANT_COLUMNS),
                     group_owners={"clients": ("id", {k: tuple(v) for k, v in by_client.items()})},
                     meta={"logins": ds.logins})

    def install(self, admin_dsn: str) -> None:
        install.install(admin_dsn)

    def tenants(self, world: World) -> list[Tenant]:
        slugs = {str(c["id"]): c["slug"] for c in world.tables["clients"]}
        return [Tenant(str(t["id"]), t["slug"], slugs[str(t["client_id"])]) for t in world.tables["tenants"]]

    def principals(self, world: World) -> list[Principal]:
        tenants = self.tenants(world)
        by_slug = {t.slug: t for t in tenants}
        out = []
        for login in world.meta["logins"]:
            home = by_slug[login.tenant_slug]
            if login.role == "corporate_admin":
                name = f"{login.client_slug}:corporate_admin"
                visible = frozenset(t.id for t in tenants if t.client == home.client)
            else:
                name = f"{login.tenant_slug}:{login.role}"
                visible = frozenset({home.id})
            out.append(Principal(name, login.role, home.id, visible,
                                 {"email": login.email, "password": login.password}))
        return out

    # -- target --------------------------------------------------------------------------------------------
    def create_app(self, db: Database):
        from phoenix.app import create_app

        return create_app(db.dsn(install.APP_ROLE, install.APP_PASSWORD),
                          reporting_db_url=db.dsn(install.REPORTING_ROLE, install.REPORTING_PASSWORD))

    def is_forbidden(self, principal: Principal, operation: str) -> bool:
        from phoenix.api.roles import ROLE_RULES

        allowed = ROLE_RULES.get(operation)
        return allowed is not None and principal.role not in allowed

    # -- reporting -----------------------------------------------------------------------------------------
    def queries(self) -> list[Query]:
        from phoenix.reporting import REPORTS

        return [Query(r.name, tuple(QueryParam(p.name, p.type, p.required, p.default, p.minimum, p.maximum,
                                               tuple(p.choices or ())) for p in r.params),
                      tuple(r.roles), ("POST", f"/api/reports/{r.name}")) for r in REPORTS.values()]

    def run_query(self, db: Database, query: Query, params: dict, principal: Principal) -> list[dict]:
        """As the app runs a report: the reporting role, the principal's tenant context, one transaction."""
        from phoenix.reporting.engine import run_report

        with self._lock:
            conn = self._conns.get(db.name)
            if conn is None or conn.closed:
                conn = psycopg.connect(db.dsn(install.REPORTING_ROLE, install.REPORTING_PASSWORD))
                self._conns[db.name] = conn
        return run_report(conn, query.name, params, sorted(principal.visible))


SCENARIO = PhoenixScenario()
