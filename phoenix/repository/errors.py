"""Errors the repository raises; the app maps them to HTTP (404, 409)."""


class NotFound(Exception):
    """The object does not exist *for this principal* (another tenant's object does not exist either)."""

    def __init__(self, what: str = "object"):
        super().__init__(f"{what} not found")


class Conflict(Exception):
    """A uniqueness or reference rule refused the write."""


class Invalid(Exception):
    """A request that is well-formed but inconsistent (mapped to 422)."""
