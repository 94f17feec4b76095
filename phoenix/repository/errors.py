"""Errors the repository raises; the app maps them to HTTP (404, 409)."""


class NotFound(Exception):
    """The object does not exist *for this principal* (another tenant's object does not exist either)."""

    def __init__(self, what: str = "object"):
        super().__init__(f"{what} not found")


class Forbidden(Exception):
    """The principal may not do this (mapped to 403). Never raised for another tenant's object: that
    object does not exist for the principal (:class:`NotFound`), or its existence would leak."""


class Conflict(Exception):
    """A uniqueness or reference rule refused the write."""


class Invalid(Exception):
    """A request that is well-formed but inconsistent (mapped to 422)."""
