"""Phoenix's reporting engine: a catalogue of named, parameterised SQL reports.

``REPORTS`` is the catalogue; :func:`phoenix.reporting.engine.run_report` runs one directly in the
database (what the harness does); :mod:`phoenix.reporting.api` serves them over HTTP.
"""

from phoenix.reporting.catalogue import REPORTS
from phoenix.reporting.params import Param, ReportParamError
from phoenix.reporting.report import Report

__all__ = ["REPORTS", "Param", "Report", "ReportParamError"]
