"""All SQL of the dashboard API. Route handlers call these functions; they never write SQL."""

from phoenix.repository.base import Page, Scope, TenantRepository
from phoenix.repository.errors import Conflict, Invalid, NotFound

__all__ = ["Conflict", "Invalid", "NotFound", "Page", "Scope", "TenantRepository"]
