"""Root cause in SQL: which statements served a request, and whether each keeps to the tenant context.

- :mod:`harness.sql.capture`: the statements the app ran per request on the run's own PostgreSQL
  (statement log + pg_stat_statements), with role, parameters and rows.
- :mod:`harness.sql.analysis`: for each tenant table a statement reads or writes, whether the statement
  constrains it by the tenant column (and by which rule), or only RLS does, or nothing does.
- :mod:`harness.sql.catalogue`: the RLS, policy, role, column and foreign-key facts the analysis needs.
"""

from harness.sql.analysis import StatementAnalysis, TableAccess, analyze, fingerprint, normalize
from harness.sql.capture import Statement, StatementCapture
from harness.sql.catalogue import Catalogue, ForeignKey, RoleFacts, TableFacts, catalogue

__all__ = ["Catalogue", "ForeignKey", "RoleFacts", "Statement", "StatementAnalysis", "StatementCapture",
           "TableAccess", "TableFacts", "analyze", "catalogue", "fingerprint", "normalize"]
