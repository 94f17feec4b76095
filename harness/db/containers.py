"""PostgreSQL in a container, where a Docker engine answers."""

from __future__ import annotations

import os

from harness.db.server import DatabaseServer
from harness.errors import DatabaseUnavailable

IMAGE = os.environ.get("HARNESS_PG_IMAGE", "postgres:16-alpine")


def docker_available() -> bool:
    """True when a Docker engine answers a ping (not merely when the client is installed)."""
    try:
        import docker  # testcontainers depends on it
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


class ContainerServer(DatabaseServer):
    disposable = True  # stopping the container discards its databases

    def __init__(self, container):
        self.container = container
        dsn = container.get_connection_url(driver=None)
        super().__init__(dsn, "testcontainers")

    def stop(self) -> None:
        self.container.stop()


def start() -> ContainerServer:
    if not docker_available():
        raise DatabaseUnavailable(
            "HARNESS_DB=testcontainers but no Docker engine answers: start Docker, or unset HARNESS_DB "
            "to use the embedded PostgreSQL")
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer(IMAGE, username="postgres", password="postgres", dbname="postgres")
    try:
        container.start()
    except Exception as exc:
        raise DatabaseUnavailable(f"could not start {IMAGE} with testcontainers: "
                                  f"{' '.join(str(exc).split())[:200]}") from None
    return ContainerServer(container)
