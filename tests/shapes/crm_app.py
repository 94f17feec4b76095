"""A small multi-tenant CRM: a target of a very different shape from Phoenix.

Where Phoenix has one tenant per user, UUID keys and row-level security, this app has:

- tenants that are *workspaces* named by a slug in the path (every tenant route is ``/w/{ws}/...``);
- users who belong to several workspaces through ``memberships``, whose primary key is composite
  ``(workspace_id, user_id)`` (no ``id`` column), each membership with its own role (admin | member);
- serial integer ids everywhere else, so ids of different tables and tenants overlap;
- no row-level security: isolation is only the ``workspace_id`` predicate in the app's own queries;
- a unique-across-the-database column (``contacts.email``), a global reference table (``currencies``),
  a per-workspace natural key (``accounts.number``) and a redirect (``by-number`` answers 307).

Planted leaks are off unless named in ``create_app(dsn, leaks=...)``; :data:`LEAKS` lists them with the
operations they affect. Every request opens one autocommit connection: each statement is committed
before the response leaves, so whoever inspects the database after a response sees what it wrote.
"""

# No "from __future__ import annotations": FastAPI must resolve the Annotated aliases local to
# create_app (Conn, Member, ...), which string annotations would hide from it.

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

DDL = """
CREATE TABLE currencies (
    code char(3) PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE workspaces (
    id serial PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    password_hash text NOT NULL
);
CREATE TABLE memberships (
    workspace_id integer NOT NULL REFERENCES workspaces(id),
    user_id integer NOT NULL REFERENCES users(id),
    role text NOT NULL CHECK (role IN ('admin', 'member')),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces(id),
    number text NOT NULL,
    name text NOT NULL,
    currency char(3) NOT NULL REFERENCES currencies(code),
    balance numeric(14, 2) NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, number)
);
CREATE TABLE contacts (
    id bigserial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces(id),
    account_id bigint NOT NULL REFERENCES accounts(id),
    email text NOT NULL,
    name text NOT NULL,
    CONSTRAINT contacts_email_key UNIQUE (email)
);
CREATE TABLE deals (
    id bigserial PRIMARY KEY,
    workspace_id integer NOT NULL REFERENCES workspaces(id),
    account_id bigint NOT NULL REFERENCES accounts(id),
    title text NOT NULL,
    amount numeric(14, 2) NOT NULL,
    stage text NOT NULL CHECK (stage IN ('lead', 'qualified', 'proposal', 'won', 'lost'))
);
CREATE INDEX accounts_workspace ON accounts (workspace_id);
CREATE INDEX contacts_workspace ON contacts (workspace_id);
CREATE INDEX deals_workspace ON deals (workspace_id);
CREATE INDEX memberships_user ON memberships (user_id);
"""

#: Tables whose ids come from a sequence, i.e. whose sequence must be advanced past rows written with
#: explicit ids (COPY does not touch sequences). ``memberships`` and ``currencies`` have natural keys.
SERIAL_TABLES = ("workspaces", "users", "accounts", "contacts", "deals")

STAGES = ("lead", "qualified", "proposal", "won", "lost")

#: Planted leaks: name -> (operations affected, as "METHOD /path" of the OpenAPI document; description).
LEAKS: dict[str, tuple[tuple[str, ...], str]] = {
    "members-admin-anywhere": (
        ("POST /w/{ws}/members",),
        "adding a member checks that the caller is an admin of some workspace, not of this one (not even a "
        "member): a cross-tenant write into the composite-key memberships table"),
    "contact-idor": (
        ("GET /w/{ws}/contacts/{contact_id}",),
        "a contact is read by id without the workspace predicate (IDOR)"),
    "accounts-currency-unscoped": (
        ("GET /w/{ws}/accounts",),
        "the accounts list filtered by currency takes another query, without the workspace predicate: "
        "foreign rows only for a currency the data actually uses"),
    "by-number-any-workspace": (
        ("GET /w/{ws}/accounts/by-number/{number}",),
        "the by-number lookup falls back to every workspace: the 307 Location names a foreign account id"),
    "member-delete-any-workspace": (
        ("DELETE /w/{ws}/members/{user_id}",),
        "removing a member deletes by user_id alone (half the composite key): the user leaves every workspace"),
}

PBKDF2_ITERATIONS = 1000  # a test target: cheap on purpose


def hash_password(password: str, salt: bytes) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), digest)


def install(admin_dsn: str) -> None:
    """Create the schema in an empty database (superuser DSN); the reference data comes with the world."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(DDL)


# -- request and response bodies ---------------------------------------------------------------------
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=Decimal("-999999999999.99"),
                                 le=Decimal("999999999999.99"))]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
AccountNumber = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,19}$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    token: str


class MyWorkspace(BaseModel):
    slug: str
    name: str
    role: Literal["admin", "member"]


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    workspaces: list[MyWorkspace]


class AccountIn(Strict):
    number: AccountNumber
    name: Name
    currency: CurrencyCode
    balance: Money = Decimal("0.00")


class AccountPatch(Strict):
    # Defaults are None but the schema types are not nullable: a field may be omitted, not nulled.
    name: Name = None
    currency: CurrencyCode = None
    balance: Money = None


class AccountOut(BaseModel):
    id: int
    number: str
    name: str
    currency: str
    balance: Decimal


class ContactIn(Strict):
    account_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)]
    email: Email
    name: Name


class ContactOut(BaseModel):
    id: int
    account_id: int
    email: str
    name: str


class DealIn(Strict):
    account_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=0, le=Decimal("999999999999.99"))]
    stage: Literal["lead", "qualified", "proposal", "won", "lost"] = "lead"


class DealOut(BaseModel):
    id: int
    account_id: int
    title: str
    amount: Decimal
    stage: str


class MemberIn(Strict):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    role: Literal["admin", "member"] = "member"


class MemberOut(BaseModel):
    user_id: int
    email: str
    name: str
    role: Literal["admin", "member"]


@dataclass(frozen=True)
class Membership:
    """The caller as a member of the workspace named in the path."""

    workspace_id: int
    slug: str
    user_id: int
    role: str


# -- tokens --------------------------------------------------------------------------------------------
def make_token(secret: str, user_id: int) -> str:
    sig = hmac.new(secret.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{user_id}.{sig}"


def read_token(secret: str, token: str) -> int | None:
    user, _, sig = token.partition(".")
    if not user.isdigit() or len(user) > 10 or int(user) > MAX_INT:
        return None
    return int(user) if hmac.compare_digest(make_token(secret, int(user)), token) else None


# -- the app -------------------------------------------------------------------------------------------
UNAUTHORIZED = {401: {"description": "missing or invalid bearer token"}}
NOT_FOUND = {404: {"description": "unknown workspace, not a member of it, or no such object in it"}}
TENANT = {**UNAUTHORIZED, **NOT_FOUND}
ADMIN_ONLY = {403: {"description": "the caller is not an admin of the workspace"}}
CONFLICT = {409: {"description": "conflicts with an existing row"}}
INVALID = {422: {"description": "invalid body or parameters"}}

ACCOUNT_COLUMNS = "id, number, name, currency, balance"
CONTACT_COLUMNS = "id, account_id, email, name"
DEAL_COLUMNS = "id, account_id, title, amount, stage"


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def create_app(dsn: str, leaks: frozenset[str] | set[str] = frozenset(), *,
               secret: str = "crm-shape-secret") -> FastAPI:
    """The CRM over ``dsn``, with the planted leaks named in ``leaks`` (see :data:`LEAKS`) switched on."""
    leaks = frozenset(leaks)
    unknown = sorted(leaks - LEAKS.keys())
    if unknown:
        raise ValueError(f"unknown CRM leak(s) {', '.join(unknown)}; known: {', '.join(sorted(LEAKS))}")

    app = FastAPI(title="Shapes CRM", version="1.0.0",
                  description="A multi-tenant CRM: workspaces by slug, users in several workspaces, no RLS.")
    app.state.leaks = leaks
    bearer = HTTPBearer(auto_error=False)

    @app.exception_handler(psycopg.DataError)
    async def bad_value(request: Request, exc: psycopg.DataError):
        # NUL bytes in text, values out of a column's range: the client's fault, not a server error.
        return JSONResponse({"detail": "invalid value"}, status_code=422)

    def db():
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            yield conn

    Conn = Annotated[psycopg.Connection, Depends(db)]

    def current_user(conn: Conn,
                     cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> dict:
        user_id = read_token(secret, cred.credentials) if cred else None
        row = None if user_id is None else conn.execute(
            "SELECT id, email, name FROM users WHERE id = %s", [user_id]).fetchone()
        if row is None:
            raise HTTPException(401, "missing or invalid token", headers={"WWW-Authenticate": "Bearer"})
        return row

    User = Annotated[dict, Depends(current_user)]
    Slug = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")]

    def membership(ws: Slug, conn: Conn, user: User) -> Membership:
        row = conn.execute(
            "SELECT w.id, w.slug, m.role FROM workspaces w"
            " JOIN memberships m ON m.workspace_id = w.id AND m.user_id = %s WHERE w.slug = %s",
            [user["id"], ws]).fetchone()
        if row is None:  # unknown slug and not-a-member look the same
            raise HTTPException(404, "workspace not found")
        return Membership(row["id"], row["slug"], user["id"], row["role"])

    Member = Annotated[Membership, Depends(membership)]
    AccountId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
    Limit = Annotated[int, Query(ge=1, le=100)]
    Offset = Annotated[int, Query(ge=0, le=1_000_000)]
    SearchText = Annotated[str | None, Query(min_length=1, max_length=100)]

    def require_admin(m: Membership) -> None:
        if m.role != "admin":
            raise HTTPException(403, "only an admin of the workspace may do this")

    def account_in_workspace(conn, m: Membership, account_id: int) -> bool:
        return conn.execute("SELECT 1 FROM accounts WHERE id = %s AND workspace_id = %s",
                            [account_id, m.workspace_id]).fetchone() is not None

    def check_currency(conn, code: str) -> None:
        if conn.execute("SELECT 1 FROM currencies WHERE code = %s", [code]).fetchone() is None:
            raise HTTPException(422, "unknown currency")

    # -- authentication --------------------------------------------------------------------------------
    @app.post("/auth/login", response_model=TokenOut, tags=["auth"], responses=UNAUTHORIZED)
    def login(body: LoginIn, conn: Conn):
        row = conn.execute("SELECT id, password_hash FROM users WHERE email = %s", [body.email]).fetchone()
        if row is None or not verify_password(body.password, row["password_hash"]):
            raise HTTPException(401, "wrong e-mail or password")
        return {"token": make_token(secret, row["id"])}

    @app.get("/me", response_model=MeOut, tags=["auth"], responses=UNAUTHORIZED)
    def me(user: User, conn: Conn):
        workspaces = conn.execute(
            "SELECT w.slug, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id"
            " WHERE m.user_id = %s ORDER BY w.slug", [user["id"]]).fetchall()
        return {**user, "workspaces": workspaces}

    # -- accounts --------------------------------------------------------------------------------------
    @app.get("/w/{ws}/accounts", response_model=list[AccountOut], tags=["accounts"], responses=TENANT)
    def list_accounts(m: Member, conn: Conn,
                      currency: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
                      q: SearchText = None, limit: Limit = 50, offset: Offset = 0):
        where, params = [], []
        if currency is not None and "accounts-currency-unscoped" in leaks:
            # Planted: a "currency report" shortcut that forgot which workspace it serves. A currency no
            # row uses finds nothing anyway, so only values taken from the data reveal it.
            where.append("currency = %s")
            params.append(currency)
        else:
            where.append("workspace_id = %s")
            params.append(m.workspace_id)
            if currency is not None:
                where.append("currency = %s")
                params.append(currency)
        if q is not None:
            where.append("name ILIKE %s")
            params.append(_like(q))
        return conn.execute(
            f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {' AND '.join(where)} ORDER BY id LIMIT %s OFFSET %s",
            [*params, limit, offset]).fetchall()

    @app.post("/w/{ws}/accounts", response_model=AccountOut, status_code=201, tags=["accounts"],
              responses={**TENANT, **CONFLICT, **INVALID})
    def create_account(body: AccountIn, m: Member, conn: Conn):
        check_currency(conn, body.currency)
        row = conn.execute(
            f"INSERT INTO accounts (workspace_id, number, name, currency, balance) VALUES (%s, %s, %s, %s, %s)"
            f" ON CONFLICT (workspace_id, number) DO NOTHING RETURNING {ACCOUNT_COLUMNS}",
            [m.workspace_id, body.number, body.name, body.currency, body.balance]).fetchone()
        if row is None:
            raise HTTPException(409, "an account with this number already exists in the workspace")
        return row

    @app.get("/w/{ws}/accounts/by-number/{number}", status_code=307, response_class=RedirectResponse,
             tags=["accounts"],
             responses={307: {"description": "the account exists: redirect to it",
                              "headers": {"Location": {"description": "/w/{ws}/accounts/{account_id}",
                                                       "schema": {"type": "string"}}}},
                        **TENANT})
    def account_by_number(number: Annotated[str, Path(min_length=1, max_length=40)], m: Member, conn: Conn):
        if "by-number-any-workspace" in leaks:
            # Planted: "numbers are unique anyway", so fall back to any workspace's account.
            row = conn.execute("SELECT id FROM accounts WHERE number = %s ORDER BY workspace_id <> %s, id LIMIT 1",
                               [number, m.workspace_id]).fetchone()
        else:
            row = conn.execute("SELECT id FROM accounts WHERE workspace_id = %s AND number = %s",
                               [m.workspace_id, number]).fetchone()
        if row is None:
            raise HTTPException(404, "no account with this number")
        return RedirectResponse(f"/w/{m.slug}/accounts/{row['id']}", status_code=307)

    @app.get("/w/{ws}/accounts/{account_id}", response_model=AccountOut, tags=["accounts"], responses=TENANT)
    def get_account(account_id: AccountId, m: Member, conn: Conn):
        row = conn.execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = %s AND workspace_id = %s",
                           [account_id, m.workspace_id]).fetchone()
        if row is None:
            raise HTTPException(404, "account not found")
        return row

    @app.patch("/w/{ws}/accounts/{account_id}", response_model=AccountOut, tags=["accounts"],
               responses={**TENANT, **INVALID})
    def update_account(account_id: AccountId, body: AccountPatch, m: Member, conn: Conn):
        changes = body.model_dump(exclude_unset=True)
        if "currency" in changes:
            check_currency(conn, changes["currency"])
        assignments = ", ".join(f"{column} = %s" for column in changes) or "id = id"
        row = conn.execute(
            f"UPDATE accounts SET {assignments} WHERE id = %s AND workspace_id = %s RETURNING {ACCOUNT_COLUMNS}",
            [*changes.values(), account_id, m.workspace_id]).fetchone()
        if row is None:
            raise HTTPException(404, "account not found")
        return row

    # -- contacts --------------------------------------------------------------------------------------
    @app.get("/w/{ws}/contacts", response_model=list[ContactOut], tags=["contacts"], responses=TENANT)
    def list_contacts(m: Member, conn: Conn,
                      account_id: Annotated[int | None, Query(ge=1, le=MAX_BIGINT)] = None,
                      q: SearchText = None, limit: Limit = 50, offset: Offset = 0):
        where, params = ["workspace_id = %s"], [m.workspace_id]
        if account_id is not None:
            where.append("account_id = %s")
            params.append(account_id)
        if q is not None:
            where.append("(name ILIKE %s OR email ILIKE %s)")
            params += [_like(q), _like(q)]
        return conn.execute(
            f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE {' AND '.join(where)} ORDER BY id LIMIT %s OFFSET %s",
            [*params, limit, offset]).fetchall()

    @app.post("/w/{ws}/contacts", response_model=ContactOut, status_code=201, tags=["contacts"],
              responses={**TENANT, **CONFLICT, **INVALID})
    def create_contact(body: ContactIn, m: Member, conn: Conn):
        if not account_in_workspace(conn, m, body.account_id):
            raise HTTPException(422, "account_id names no account of this workspace")
        try:
            return conn.execute(
                f"INSERT INTO contacts (workspace_id, account_id, email, name) VALUES (%s, %s, %s, %s)"
                f" RETURNING {CONTACT_COLUMNS}", [m.workspace_id, body.account_id, body.email, body.name]).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != "contacts_email_key":
                raise
            # Unique across the whole database, by design: the answer does not say in which workspace.
            raise HTTPException(409, "this e-mail address is already in use") from None

    @app.get("/w/{ws}/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"], responses=TENANT)
    def get_contact(contact_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)], m: Member, conn: Conn):
        if "contact-idor" in leaks:
            # Planted: the membership was checked, so the id "must" be fine.
            row = conn.execute(f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = %s", [contact_id]).fetchone()
        else:
            row = conn.execute(f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = %s AND workspace_id = %s",
                               [contact_id, m.workspace_id]).fetchone()
        if row is None:
            raise HTTPException(404, "contact not found")
        return row

    @app.delete("/w/{ws}/contacts/{contact_id}", status_code=204, response_class=Response, tags=["contacts"],
                responses=TENANT)
    def delete_contact(contact_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)], m: Member, conn: Conn):
        cur = conn.execute("DELETE FROM contacts WHERE id = %s AND workspace_id = %s", [contact_id, m.workspace_id])
        if cur.rowcount == 0:
            raise HTTPException(404, "contact not found")
        return Response(status_code=204)

    # -- deals -----------------------------------------------------------------------------------------
    @app.get("/w/{ws}/deals", response_model=list[DealOut], tags=["deals"], responses=TENANT)
    def list_deals(m: Member, conn: Conn,
                   stage: Literal["lead", "qualified", "proposal", "won", "lost"] | None = None,
                   account_id: Annotated[int | None, Query(ge=1, le=MAX_BIGINT)] = None,
                   limit: Limit = 50, offset: Offset = 0):
        where, params = ["workspace_id = %s"], [m.workspace_id]
        if stage is not None:
            where.append("stage = %s")
            params.append(stage)
        if account_id is not None:
            where.append("account_id = %s")
            params.append(account_id)
        return conn.execute(
            f"SELECT {DEAL_COLUMNS} FROM deals WHERE {' AND '.join(where)} ORDER BY id LIMIT %s OFFSET %s",
            [*params, limit, offset]).fetchall()

    @app.post("/w/{ws}/deals", response_model=DealOut, status_code=201, tags=["deals"],
              responses={**TENANT, **INVALID})
    def create_deal(body: DealIn, m: Member, conn: Conn):
        if not account_in_workspace(conn, m, body.account_id):
            raise HTTPException(422, "account_id names no account of this workspace")
        return conn.execute(
            f"INSERT INTO deals (workspace_id, account_id, title, amount, stage) VALUES (%s, %s, %s, %s, %s)"
            f" RETURNING {DEAL_COLUMNS}",
            [m.workspace_id, body.account_id, body.title, body.amount, body.stage]).fetchone()

    @app.get("/w/{ws}/deals/{deal_id}", response_model=DealOut, tags=["deals"], responses=TENANT)
    def get_deal(deal_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)], m: Member, conn: Conn):
        row = conn.execute(f"SELECT {DEAL_COLUMNS} FROM deals WHERE id = %s AND workspace_id = %s",
                           [deal_id, m.workspace_id]).fetchone()
        if row is None:
            raise HTTPException(404, "deal not found")
        return row

    # -- members (the composite-key table) -------------------------------------------------------------
    @app.get("/w/{ws}/members", response_model=list[MemberOut], tags=["members"], responses=TENANT)
    def list_members(m: Member, conn: Conn):
        return conn.execute(
            "SELECT u.id AS user_id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.workspace_id = %s ORDER BY u.id", [m.workspace_id]).fetchall()

    @app.post("/w/{ws}/members", response_model=MemberOut, status_code=201, tags=["members"],
              responses={**TENANT, **ADMIN_ONLY, **CONFLICT})
    def add_member(ws: Slug, body: MemberIn, user: User, conn: Conn):
        if "members-admin-anywhere" in leaks:
            # Planted: "is the caller an admin?" asked of any membership, not of this workspace's.
            found = conn.execute("SELECT id FROM workspaces WHERE slug = %s", [ws]).fetchone()
            if found is None:
                raise HTTPException(404, "workspace not found")
            if conn.execute("SELECT 1 FROM memberships WHERE user_id = %s AND role = 'admin' LIMIT 1",
                            [user["id"]]).fetchone() is None:
                raise HTTPException(403, "only an admin of the workspace may do this")
            workspace_id = found["id"]
        else:
            m = membership(ws, conn, user)
            require_admin(m)
            workspace_id = m.workspace_id
        target = conn.execute("SELECT id, email, name FROM users WHERE email = %s", [body.email]).fetchone()
        if target is None:
            raise HTTPException(404, "no user with this e-mail")
        inserted = conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (%s, %s, %s)"
            " ON CONFLICT (workspace_id, user_id) DO NOTHING RETURNING role",
            [workspace_id, target["id"], body.role]).fetchone()
        if inserted is None:
            raise HTTPException(409, "already a member of the workspace")
        return {"user_id": target["id"], "email": target["email"], "name": target["name"], "role": body.role}

    @app.delete("/w/{ws}/members/{user_id}", status_code=204, response_class=Response, tags=["members"],
                responses={**TENANT, **ADMIN_ONLY, 409: {"description": "an admin cannot remove themself"}})
    def remove_member(user_id: Annotated[int, Path(ge=1, le=MAX_INT)], m: Member, conn: Conn):
        require_admin(m)
        if user_id == m.user_id:
            raise HTTPException(409, "an admin cannot remove themself")
        if "member-delete-any-workspace" in leaks:
            # Planted: existence checked with both key columns, deletion done with one.
            if conn.execute("SELECT 1 FROM memberships WHERE workspace_id = %s AND user_id = %s",
                            [m.workspace_id, user_id]).fetchone() is None:
                raise HTTPException(404, "not a member of the workspace")
            conn.execute("DELETE FROM memberships WHERE user_id = %s", [user_id])
        else:
            cur = conn.execute("DELETE FROM memberships WHERE workspace_id = %s AND user_id = %s",
                               [m.workspace_id, user_id])
            if cur.rowcount == 0:
                raise HTTPException(404, "not a member of the workspace")
        return Response(status_code=204)

    return app
