"""``POST /api/auth/login``: e-mail and password in, bearer token out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from phoenix.api.common import ErrorOut, Strict
from phoenix.auth import authenticate
from phoenix.deps import get_db

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/login", response_model=TokenOut, summary="Log in",
             responses={400: {"model": ErrorOut, "description": "Malformed request body"},
                        401: {"model": ErrorOut, "description": "Bad credentials"},
                        422: {"model": ErrorOut, "description": "Invalid request"}})
async def login(body: LoginIn, request: Request):
    principal = await authenticate(get_db(request), body.email, body.password)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid e-mail or password")
    tokens = request.app.state.tokens
    return {"access_token": tokens.issue(principal), "token_type": "bearer", "expires_in": tokens.ttl}
