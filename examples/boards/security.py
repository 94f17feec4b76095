"""Passwords and bearer tokens.

Tokens are random strings stored (hashed) in the ``tokens`` table rather than signed claims: deleting
a user or wiping the store revokes them, and a client can always log in again for a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

ITERATIONS = 10_000  # modest: this is a demo target that scanners log into many times
TOKEN_TTL_DAYS = 7


def hash_password(password: str) -> str:
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        algo, iterations, salt, digest = encoded.split("$")
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return algo == "pbkdf2_sha256" and hmac.compare_digest(candidate.hex(), digest)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Only the hash is stored, so a database dump holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
