"""The CRM shape as a scenario: workspaces by slug in the path, users in several workspaces, serial ids.

Nothing here works around the harness: the world is the CRM's own (integer ids written with COPY; the
harness advances the sequences), the path parameters name columns (``ws`` → ``workspaces.slug``,
``number`` → ``accounts.number``, ``user_id`` → ``memberships.user_id``), and two values the spec
cannot give come from the data (the currency codes accounts use, the e-mails of existing users to
add as members). Usable directly::

    tenant-harness scan --scenario tests/shapes/crm_scenario.py          # the clean build
    CRM_LEAKS=contact-idor tenant-harness scan --scenario tests/shapes/crm_scenario.py

A principal is a user; its tenant is its home workspace (where its own requests go), V(P) every
workspace it is a member of, its role the one it holds at home. The first three users of each
workspace are principals (its admin, a member who is an admin elsewhere, a plain member); the others
log in as no one: bystanders, whom admins may add to their workspace and remove again (the harness
never adds or removes a principal, whose V(P) is declared).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # ``tests`` importable from the scan command

from harness.scenario import Database, Principal, Scenario, Tenant  # noqa: E402
from harness.world import World  # noqa: E402
from tests.shapes import crm_app, crm_world  # noqa: E402

ADMIN_ONLY = ("POST /w/{ws}/members", "DELETE /w/{ws}/members/{user_id}")
PRINCIPALS_PER_WORKSPACE = 3


class CrmScenario(Scenario):
    name = "crm"
    login_path = "/auth/login"
    token_field = "token"
    skip_operations = ("POST /auth/login",)
    rls = False  # isolation is the app's own workspace predicate
    tenant_headers = ("X-Workspace",)
    tenant_params = ("workspace_id", "workspace")
    resource_aliases = {
        "ws": "workspaces.slug",  # the tenant in the path
        "number": "accounts.number",  # a natural key in the path
        "user_id": "memberships.user_id",  # half of a composite key, within the tenant in the path
        "members": "memberships",  # /w/{ws}/members lists and creates memberships
    }
    parameter_values = {
        "currency": "accounts.currency",  # the codes the workspace's accounts use
        "amount": "deals.amount",  # a decimal with two places: the spec says only "number or string"
        "POST /w/{ws}/members": {"email": "users.email"},  # an existing user to add
    }

    waivers = ({"kind": "existence", "operation": "POST /w/{ws}/contacts",
                "reason": "contacts.email is unique across the whole platform by design (one person, one contact "
                          "record): the 409 for an address another workspace holds is accepted, and it names no "
                          "workspace"},)

    def __init__(self, leaks=(), workspaces: int = 3, users: int = 5):
        self.leaks = frozenset(leaks)
        self.workspaces, self.users = workspaces, users

    # -- the world ---------------------------------------------------------------------------------
    def generate_world(self, seed: int) -> World:
        made = crm_world.generate(seed, self.workspaces, self.users)
        return World(seed, made.tables, dict(crm_world.TENANT_COLUMNS), meta={"logins": made.logins})

    def install(self, admin_dsn: str) -> None:
        crm_app.install(admin_dsn)

    def tenants(self, world: World) -> list[Tenant]:
        return [Tenant(str(w["id"]), w["slug"], w["slug"]) for w in world.tables["workspaces"]]

    def principals(self, world: World) -> list[Principal]:
        ids = {w["slug"]: str(w["id"]) for w in world.tables["workspaces"]}
        order = [w["slug"] for w in world.tables["workspaces"]]
        out, count = [], {}
        for login in world.meta["logins"]:
            if (login.user_id - 1) % self.users >= PRINCIPALS_PER_WORKSPACE:  # a bystander
                continue
            home = order[(login.user_id - 1) // self.users]  # k users per workspace, in order
            role = login.workspaces[home]
            count[(home, role)] = count.get((home, role), 0) + 1
            n = count[(home, role)]
            out.append(Principal(f"{home}:{role}" + (f"-{n}" if n > 1 else ""), role, ids[home],
                                 frozenset(ids[s] for s in login.workspaces),
                                 {"email": login.email, "password": login.password}))
        return out

    # -- the target --------------------------------------------------------------------------------
    def create_app(self, db: Database):
        return crm_app.create_app(db.admin_dsn, self.leaks)

    def is_forbidden(self, principal: Principal, operation: str) -> bool:
        return operation in ADMIN_ONLY and principal.role != "admin"


SCENARIO = CrmScenario(leaks=[name for name in os.environ.get("CRM_LEAKS", "").split(",") if name])
