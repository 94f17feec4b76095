"""SARIF 2.1.0, for code-scanning dashboards (GitHub, GitLab, Azure DevOps).

A rule per finding kind, a result per finding. The harness tests a running API, not source lines, so
each result's primary location is logical (the operation); when the scenario is a file, it is also
given as the physical location, which some dashboards require to show a result at all. The finding's
stable id is the partial fingerprint, so the same bug stays one alert across runs.
"""

from __future__ import annotations

from harness.report.queries_md import root_cause_text
from harness.report.view import ReportView, describe, format_request, where

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "tenant-harness"
FINGERPRINT = "tenantHarnessFindingId/v1"
BOLA = "https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/"
BOPLA = "https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/"

#: kind -> (name, short description, why it matters and where to look, CWE, help URI)
RULES: dict[str, tuple[str, str, str, str, str | None]] = {
    "foreign-row": (
        "ForeignRow", "A response carried data owned by a tenant the principal may not see.",
        "A value seeded for one tenant (an id, e-mail, name, invoice number...) appeared in a response "
        "to a principal outside that tenant's visibility: in the body, a header or an error message. "
        "Look for a query that lost its tenant predicate and a path where row-level security did not "
        "apply (a privileged connection, a cache keyed without the tenant, a context left on a pooled "
        "connection).", "200", BOLA),
    "non-interference": (
        "NonInterference", "A response changed when only other tenants' data changed.",
        "Two worlds identical in the principal's own tenants and different elsewhere gave different "
        "answers: a count, sum, total or existence check is computed over rows the principal may not "
        "see. No foreign value is shown, but foreign data still leaks through the aggregate.",
        "203", None),
    "write-isolation": (
        "WriteIsolation", "A request changed or moved a row of another tenant.",
        "Per-tenant digests of the database before and after the request differ for a tenant outside "
        "the principal's visibility: an update or delete matched rows by id alone, or a row was "
        "re-parented into another tenant.", "639", BOLA),
    "object-level": (
        "ObjectLevelAuthorization", "A foreign object's id did not give 403/404.",
        "Requesting another tenant's object by its id succeeded. Every lookup by id must also "
        "filter by the caller's tenants, so that a foreign id is indistinguishable from a missing "
        "one.", "639", BOLA),
    "mass-assignment": (
        "MassAssignment", "The request body set a tenant or owner field.",
        "The API accepted a tenant_id (or another ownership field) from the client and stored it: the "
        "row now lives in a tenant the principal does not belong to. Ownership must come from the "
        "authenticated principal, never from the body.", "915", BOPLA),
    "function-level": (
        "FunctionLevelAuthorization", "A role the scenario forbids an operation got a success from it.",
        "The scenario declares this role forbidden for the operation, yet it answered 2xx: the operation "
        "checks authentication but not the role. Enforce the role on the route, and keep it out of "
        "the coverage the scan counts.", "285",
        "https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/"),
    "db-audit": (
        "DatabaseAudit", "The database weakens the tenant isolation it is meant to back.",
        "Row-level security is off or not forced on a tenant table, a policy is missing, or the app's "
        "role owns a tenant table or bypasses RLS: one missing predicate in the app would then leak.",
        "284", None),
    "latent": (
        "LatentSqlLeak", "A statement the app ran reads or writes a tenant table with no tenant protection.",
        "The statement carries no predicate limiting the table to the tenant context, and row-level "
        "security does not bind the role that ran it (BYPASSRLS, the owner without FORCE). No response "
        "of this scan showed it, so it is a warning: add the tenant predicate, or run it on a role RLS "
        "binds. See the query inventory (queries.md).", "862", None),
}


def _rule(kind: str) -> dict:
    name, short, full, cwe, uri = RULES.get(kind, (
        "".join(w.capitalize() for w in kind.replace("_", "-").split("-")) or "Finding",
        f"Tenant isolation finding of kind {kind}.", f"The harness reported a {kind} finding.", "", None))
    rule = {
        "id": kind,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": f"{short} {full}",
                 "markdown": f"**{short}**\n\n{full}" + (f"\n\nSee [{uri}]({uri})." if uri else "")},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "multi-tenancy", "tenant-isolation"]
                       + ([f"external/cwe/cwe-{cwe}"] if cwe else []),
                       "precision": "high", "problem.severity": "error", "security-severity": "8.0"},
    }
    if uri:
        rule["helpUri"] = uri
    return rule


def _looks_like_file(scenario: str) -> bool:
    return scenario.endswith((".py", ".toml", ".yaml", ".yml", ".json")) and "://" not in scenario


def _result(f: dict, rule_index: dict[str, int], view: ReportView) -> dict:
    kind = str(f.get("kind", "finding"))
    operation = where(f)
    sentence = describe(f)
    evidence = str(f.get("evidence") or "")
    markdown = f"{sentence}." + (f"\n\nEvidence:\n```\n{evidence}\n```" if evidence else "")
    if f.get("reproduce"):
        markdown += f"\n\nReproduce: `{f['reproduce']}`"
    location: dict = {"logicalLocations": [{
        "name": operation, "kind": "resource",
        "fullyQualifiedName": f"{view.run.get('target') or view.scenario} {operation}"}]}
    if _looks_like_file(view.scenario):
        location["physicalLocation"] = {"artifactLocation": {"uri": view.scenario, "uriBaseId": "%SRCROOT%"},
                                        "region": {"startLine": 1}}
    result = {
        "ruleId": kind,
        "ruleIndex": rule_index[kind],
        "level": LEVELS.get(str(f.get("severity") or "error"), "error"),
        "kind": "fail",
        "message": {"text": f"{sentence} (finding {f.get('id', '?')}).", "markdown": markdown},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: str(f.get("id", ""))},
        "properties": {k: f[k] for k in ("id", "title", "oracle", "phase", "principal", "victim_tenant",
                                          "status", "seed", "evidence", "curl", "reproduce") if k in f},
    }
    if f.get("request") is not None:
        result["properties"]["request"] = format_request(f.get("request"))
    if f.get("root_cause"):  # root cause in SQL: the statements that left the table unprotected
        result["properties"]["rootCause"] = f["root_cause"]
        result["relatedLocations"] = [
            {"id": i, "message": {"text": root_cause_text([c])},
             "logicalLocations": [{"name": str(c.get("table")), "kind": "resource",
                                   "fullyQualifiedName": f"table {c.get('table')}"}]}
            for i, c in enumerate(f["root_cause"]) if isinstance(c, dict)]
    if f.get("waived"):
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": str(f["waived"].get("reason") or "")}]
    return result


#: SARIF result level of each finding severity (harness.findings.Finding.severity).
LEVELS = {"error": "error", "warning": "warning", "note": "note"}


def render_sarif(view: ReportView) -> dict:
    run = view.run
    reported = view.findings + view.waived + view.notes
    kinds = list(RULES) + sorted({str(f.get("kind", "finding")) for f in reported} - set(RULES))
    rule_index = {kind: i for i, kind in enumerate(kinds)}
    invocation: dict = {"executionSuccessful": not view.problems and not view.incomplete}
    if view.problems:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": problem}} for problem in view.problems]
    sarif_run: dict = {
        "tool": {"driver": {"name": TOOL, "version": str(run.get("harness_version") or "0"),
                            "rules": [_rule(kind) for kind in kinds]}},
        "automationDetails": {"id": f"{TOOL}/{run.get('profile') or 'pr'}/"},
        "invocations": [invocation],
        "results": [_result(f, rule_index, view) for f in reported],
        "properties": {k: run[k] for k in ("seed", "profile", "target", "scenario", "started", "duration_s",
                                           "incomplete") if run.get(k) is not None},
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [sarif_run]}
