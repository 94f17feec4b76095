"""The report catalogue, in the order the API lists it."""

from __future__ import annotations

from phoenix.reporting.catalogue import activity, corporate, customers, delivery, finance
from phoenix.reporting.report import Report

REPORTS: dict[str, Report] = {r.name: r for module in (finance, delivery, customers, activity, corporate)
                              for r in module.REPORTS}
