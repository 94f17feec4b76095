"""Runtime settings, read once when the app is created (environment first, arguments win)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from phoenix import faults as fault_registry
from phoenix import install

ENV_DB = "PHOENIX_DATABASE_URL"
ENV_REPORTING_DB = "PHOENIX_REPORTING_DATABASE_URL"
ENV_WORKER_DB = "PHOENIX_WORKER_DATABASE_URL"
ENV_MIGRATION_DB = "PHOENIX_MIGRATION_DATABASE_URL"
ENV_SECRET = "PHOENIX_SECRET"
ENV_POOL_SIZE = "PHOENIX_POOL_SIZE"

#: One random secret per process when none is configured: tokens then die with the process.
_PROCESS_SECRET = secrets.token_hex(32)


def with_user(dsn: str, user: str, password: str) -> str:
    """The same server and database, logged in as another role (``postgresql://`` URLs only)."""
    parts = urlsplit(dsn)
    if not parts.scheme.startswith("postgres"):
        raise ValueError("database URLs must be postgresql:// URLs")
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Settings:
    db_url: str
    reporting_db_url: str
    worker_db_url: str
    migration_db_url: str
    secret: str
    faults: frozenset[str]
    pool_size: int = 4
    token_ttl: int = 3600

    @classmethod
    def load(cls, db_url: str | None = None, *, reporting_db_url: str | None = None,
             secret: str | None = None) -> "Settings":
        db_url = db_url or os.environ.get(ENV_DB)
        if not db_url:
            raise ValueError(f"no database URL: pass db_url or set {ENV_DB}")
        return cls(
            db_url=db_url,
            reporting_db_url=reporting_db_url or os.environ.get(ENV_REPORTING_DB)
            or with_user(db_url, install.REPORTING_ROLE, install.REPORTING_PASSWORD),
            worker_db_url=os.environ.get(ENV_WORKER_DB)
            or with_user(db_url, install.WORKER_ROLE, install.WORKER_PASSWORD),
            migration_db_url=os.environ.get(ENV_MIGRATION_DB)
            or with_user(db_url, install.OWNER_ROLE, install.OWNER_PASSWORD),
            secret=secret or os.environ.get(ENV_SECRET) or _PROCESS_SECRET,
            faults=fault_registry.active(),
            pool_size=int(os.environ.get(ENV_POOL_SIZE, "4")),
        )
