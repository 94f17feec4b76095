"""All SQL of the dashboard API. Route handlers call these functions; they never write SQL."""

from phoenix.repository.base import Page, Scope, TenantRepository
from phoenix.repository.errors import Conflict, Forbidden, Invalid, NotFound

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "Page", "Scope", "TenantRepository"]
