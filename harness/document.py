"""The findings document (``findings.json``): what one campaign established, as plain data.

Built once at the end of a run from the run context; every report renders this document and nothing
else, so their counts cannot disagree.
"""

from __future__ import annotations

from harness import __version__


def build(ctx, base_url: str, scenario_path: str) -> dict:
    ex = ctx.exchange
    cov = ex.coverage
    problems = cov.problems()
    findings = []
    for f in sorted(ex.findings.values(), key=lambda f: (f.requests_before, f.id)):
        d = f.as_dict(base_url, f"tenant-harness reproduce {f.id} --scenario {scenario_path} --seed {ctx.opt.seed}")
        d["occurrences"] = ex.occurrences[f.id]
        findings.append(d)
    rows = cov.operation_rows()
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("covered", "forbidden", "uncovered")}
    return {
        "run": {"seed": ctx.opt.seed, "profile": ctx.profile.name, "target": base_url,
                "scenario": ctx.scenario.name, "harness_version": __version__,
                "principals": [p.name for p in ctx.principals], "operations": [op.label for op in ctx.operations],
                "queries": [q.name for q in ctx.queries], "requests": ex.requests,
                "server_errors": ex.server_errors, "markers": len(ctx.index),
                "public_markers": ctx.public_markers, "security_definer": ctx.security_definers,
                "skipped": list(ctx.skipped), "twins": ctx.twins},
        "coverage": rows,
        "queries": cov.query_rows(),
        "findings": findings,
        "summary": {"findings": len(findings), **counts, "queries_covered": cov.covered_queries(),
                    "queries": len(cov.query_names), "ok": not findings and not problems,
                    "problems": problems, "errors": ex.transport_errors[:20]},
    }
