"""Sign-up, login, the caller's own account and the user directory.

``POST /signup`` creates a user together with a personal workspace: a brand-new tenant. ``GET /users``
lists every user's id and display name to every logged-in user, by design (a directory to pick
collaborators from), so it is not a leak. ``PATCH /me``, ``PUT /me/password``, ``PUT /users/{id}/password``
and ``DELETE /me`` change the account itself: a scanner must not run them on a live app by default.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from examples.boards.api.deps import Ctx, Id, Me
from examples.boards.api.paging import ListOf, Paging, listing
from examples.boards.api.workspaces import create_workspace
from examples.boards.security import TOKEN_TTL_DAYS, hash_password, new_token, token_hash, verify_password

router = APIRouter(tags=["accounts"])

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Password = Annotated[str, Field(min_length=8, max_length=128)]
DisplayName = Annotated[str, Field(min_length=1, max_length=80)]


class SignupIn(BaseModel):
    email: str = Field(max_length=254, pattern=EMAIL)
    password: Password
    display_name: DisplayName


class SignupOut(BaseModel):
    id: int
    email: str
    display_name: str
    workspace: str = Field(description="slug of the personal workspace created with the account")


class TokenOut(BaseModel):
    access_token: str
    token_type: str


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str


class MeIn(BaseModel):
    display_name: DisplayName


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=128)
    new_password: Password


class PasswordReset(BaseModel):
    new_password: Password


class DirectoryEntry(BaseModel):
    id: int
    display_name: str


@router.post("/signup", response_model=SignupOut, status_code=status.HTTP_201_CREATED,
             summary="Create an account and its personal workspace")
def signup(ctx: Ctx, body: SignupIn) -> dict:
    email = body.email.strip().lower()
    with ctx.db.transaction() as conn:
        user = conn.execute(
            "INSERT INTO users (email, password_hash, display_name) VALUES (%s, %s, %s) "
            "ON CONFLICT (email) DO NOTHING RETURNING id, email, display_name",
            (email, hash_password(body.password), body.display_name)).fetchone()
        if user is None:
            raise HTTPException(409, "an account with this email exists")
        workspace = create_workspace(conn, user["id"], body.display_name, personal=True)
    return {**user, "workspace": workspace["slug"]}


@router.post("/token", response_model=TokenOut, summary="OAuth2 password login (username = email)")
def login(ctx: Ctx, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
    with ctx.db.transaction() as conn:
        user = conn.execute("SELECT id, password_hash FROM users WHERE email = %s",
                            (form.username.strip().lower(),)).fetchone()
        if user is None or not verify_password(form.password, user["password_hash"]):
            raise HTTPException(401, "incorrect email or password", headers={"WWW-Authenticate": "Bearer"})
        token = new_token()
        conn.execute("INSERT INTO tokens (token_hash, user_id, expires_at) "
                     "VALUES (%s, %s, now() + make_interval(days => %s))",
                     (token_hash(token), user["id"], TOKEN_TTL_DAYS))
    return {"access_token": token, "token_type": "bearer"}


@router.get("/me", response_model=MeOut, summary="My account")
def get_me(me: Me) -> dict:
    return {"id": me.id, "email": me.email, "display_name": me.display_name}


@router.patch("/me", response_model=MeOut, summary="Change my display name")
def patch_me(ctx: Ctx, me: Me, body: MeIn) -> dict:
    with ctx.db.transaction() as conn:
        return conn.execute("UPDATE users SET display_name = %s WHERE id = %s RETURNING id, email, display_name",
                            (body.display_name, me.id)).fetchone()


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password")
def change_password(ctx: Ctx, me: Me, body: PasswordChange) -> Response:
    with ctx.db.transaction() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE id = %s", (me.id,)).fetchone()
        if not verify_password(body.current_password, row["password_hash"]):
            raise HTTPException(403, "current password is wrong")
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(body.new_password), me.id))
    return Response(status_code=204)


@router.put("/users/{id}/password", status_code=status.HTTP_204_NO_CONTENT,
            summary="Set a user's password (the admin panel's route; users may only set their own)")
def reset_password(ctx: Ctx, me: Me, id: Id, body: PasswordReset) -> Response:
    # Leak ``password-other-user``: the `id == caller` guard below is the only thing between any logged-in
    # user and everyone's account; the admin panel this route was built for had its own check.
    if id != me.id and not ctx.leak("password-other-user"):
        raise HTTPException(403, "you may only set your own password")
    with ctx.db.transaction() as conn:
        done = conn.execute("UPDATE users SET password_hash = %s WHERE id = %s",
                            (hash_password(body.new_password), id)).rowcount
    if not done:
        raise HTTPException(404, "user not found")
    return Response(status_code=204)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete my account, my notes and files, and workspaces I am the only member of")
def delete_me(ctx: Ctx, me: Me) -> Response:
    with ctx.db.transaction() as conn:
        conn.execute(
            "DELETE FROM workspaces w WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = w.id "
            "AND m.user_id = %s) AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = w.id "
            "AND m.user_id <> %s)", (me.id, me.id))
        conn.execute("DELETE FROM users WHERE id = %s", (me.id,))
    return Response(status_code=204)


@router.get("/users", response_model=ListOf[DirectoryEntry],
            summary="The user directory: every user's id and display name (public to logged-in users)")
def directory(ctx: Ctx, me: Me, paging: Paging, response: Response) -> dict:
    with ctx.db.transaction() as conn:
        rows = conn.execute("SELECT id, display_name FROM users ORDER BY id LIMIT %s OFFSET %s",
                            (paging.limit, paging.offset)).fetchall()
        total = conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"]
    return listing(response, rows, total)
