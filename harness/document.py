"""The findings document (``findings.json``): the run model of one campaign, as plain data.

Built once at the end of a run (or of an interrupted one) from the run context: the raw counts and
findings go through :func:`harness.model.derive`, which judges them, and every report renders that
judgement and nothing else, so their counts cannot disagree.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from harness import __version__, model, rootcause


def reproduce_command(finding_id: str, scenario_path: str, seed: int, reports: str = "reports") -> str:
    """The ``tenant-harness reproduce`` line printed with a finding, runnable as printed: it names the
    report folder when the scan wrote somewhere else than ``reports``."""
    line = f"tenant-harness reproduce {finding_id} --scenario {shlex.quote(scenario_path)} --seed {seed}"
    if Path(reports) != Path("reports"):
        line += f" --reports {shlex.quote(str(reports))}"
    return line


def raw(ctx, base_url: str, scenario_path: str, reports: str = "reports", **meta) -> dict:
    """What the run observed, unjudged: the run's metadata, per-pair counts, findings."""
    ex = ctx.exchange
    cov = ex.coverage if ex is not None else None
    findings = []
    if ex is not None:
        for f in sorted(ex.findings.values(), key=lambda f: (f.requests_before, f.id)):
            d = f.as_dict(base_url, reproduce_command(f.id, scenario_path, ctx.opt.seed, reports))
            d["occurrences"] = ex.occurrences[f.id]
            findings.append(d)
    # Every operation and query of the run, even on an xdist worker that scanned only its share of them.
    operations = list(cov.operations) if cov else [op.label for op in ctx.spec_operations or ctx.operations]
    queries = list(cov.query_names) if cov else [q.name for q in ctx.queries]
    run = {"seed": ctx.opt.seed, "profile": ctx.profile.name, "target": base_url,
           "scenario": ctx.scenario.name, "scenario_path": scenario_path, "live": bool(ctx.opt.base_url),
           "harness_version": __version__,
           "principals": [p.name for p in ctx.principals], "operations": operations,
           "queries": queries, "requests": ex.requests if ex else 0,
           "server_errors": ex.server_errors if ex else 0, "timeouts": getattr(ex, "timeouts", 0) if ex else 0,
           "markers": len(ctx.index), "public_markers": ctx.public_markers,
           "security_definer": ctx.security_definers, "skipped": list(ctx.skipped), "twins": ctx.twins,
           "phases": list(ctx.phases), "gates": model.gates_for(ctx.phases, ctx.opt.phases is not None),
           "waivers": [w.as_dict() for w in ctx.waivers],
           "incomplete": getattr(ctx, "incomplete", None),
           "phase_seconds": dict(ctx.budget.spent) if getattr(ctx, "budget", None) else {},
           "sql": rootcause.document(ctx), **meta}
    if getattr(ctx.opt, "shard", None):
        run["shard"] = list(ctx.opt.shard)
    return {"run": run,
            "coverage": cov.operation_rows() if cov else [],
            "queries": cov.query_rows() if cov else [],
            "findings": findings,
            "summary": {"errors": list(ex.transport_errors[:20]) if ex else []}}


def build(ctx, base_url: str, scenario_path: str, reports: str = "reports", **meta) -> dict:
    """``findings.json`` for a run context: its raw observations (plus ``meta``: started, duration),
    judged by the run model."""
    return model.from_document(raw(ctx, base_url, scenario_path, reports, **meta)).to_document()
