"""Phase ``audit`` (nightly, release): row-level security and roles as the catalogue has them.

See :mod:`harness.oracles.db_audit`; each issue is a finding of kind ``db-audit``.
"""

from __future__ import annotations

from harness.oracles import db_audit
from harness.scenario import Principal


async def run(ctx) -> None:
    dsn = ctx.run_db.admin_dsn if ctx.run_db is not None else ctx.opt.target_db_url
    if not dsn:
        ctx.skipped.append("audit: no database (pass --target-db-url for a live target)")
        return
    issues, ctx.security_definers = db_audit.audit(dsn, ctx.world.tenant_columns, ctx.scenario.app_role,
                                                   ctx.scenario.rls)
    who = Principal(f"database:{ctx.scenario.app_role or 'catalogue'}", "database", "", frozenset())
    for issue in issues:
        ctx.exchange.finding("db-audit", "db-audit", "audit", issue.subject, who, "every tenant",
                             f"{issue.check}: {issue.detail}", None, None, issue.check)
