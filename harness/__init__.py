"""Tenant-isolation regression harness: proves no response ever carries another tenant's rows."""

__version__ = "0.1.0"
