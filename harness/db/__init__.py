"""Where the harness's PostgreSQL comes from.

In order: an explicit DSN (``--harness-db-url`` / ``HARNESS_DATABASE_URL``); a testcontainers
PostgreSQL where a Docker engine answers (``HARNESS_DB=testcontainers`` forces it); otherwise an
embedded server started from the machine's binaries or a pip-installed binary package.
"""

from harness.db.server import DatabaseServer, ExternalServer
from harness.db.provider import provide_server

__all__ = ["DatabaseServer", "ExternalServer", "provide_server"]
