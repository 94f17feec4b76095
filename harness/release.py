"""``tenant-harness release``: the sign-off report a reviewer reads before a release, and the gate.

One document (``release.md`` and ``release.html``) says what was tested (operations × principals,
queries, seed, profile, duration, target), what the database audit found, every finding, every waiver
with its reason and expiry, and, given the previous release's ``findings.json``, what changed: new
findings, fixed ones, and those still present. It scans with the ``release`` profile first, or signs
off a scan already made (``--findings``, e.g. the merged report of a nightly's shards). The exit
status is the gate: 0 only when the scan passes (no finding, full coverage, complete).
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path

from harness import model as m
from harness.errors import HarnessError


def diff(current: m.RunModel, previous: m.RunModel | None) -> dict[str, list[dict]]:
    """New, fixed and persisting findings (failing ones) between the previous release and this one."""
    now = {f["id"]: f for f in current.active}
    if previous is None:
        return {"new": list(now.values()), "fixed": [], "persisting": []}
    before = {f["id"]: f for f in previous.active}
    return {"new": [f for i, f in now.items() if i not in before],
            "fixed": [f for i, f in before.items() if i not in now],
            "persisting": [f for i, f in now.items() if i in before]}


def sign_off(current: m.RunModel, previous: m.RunModel | None = None) -> dict:
    """The facts of the sign-off, rendered by :func:`render_markdown` and :func:`render_html`."""
    run = current.run
    counts = current.pair_counts()
    audit = [f for f in current.findings if f.get("kind") == "db-audit"]
    return {
        "verdict": "PASS" if current.ok else "FAIL",
        "tested": {
            "scenario": run.get("scenario"), "target": run.get("target"), "seed": run.get("seed"),
            "profile": run.get("profile"), "started": run.get("started"), "duration_s": run.get("duration_s"),
            "harness": run.get("harness_version"), "phases": run.get("phases") or [],
            "operations": f"{current.operations_covered()}/{len(current.operations)}",
            "principals": len(current.principals), "pairs_covered": counts[m.COVERED],
            "pairs_forbidden": counts[m.FORBIDDEN], "pairs_uncovered": counts[m.UNCOVERED],
            "queries": f"{current.queries_covered()}/{len(current.queries)}", "requests": run.get("requests"),
            "incomplete": current.incomplete},
        "audit": audit, "audit_ran": "audit" in (run.get("phases") or []),
        "security_definer": run.get("security_definer") or [],
        "findings": current.active, "notes": current.notes, "waived": current.waived, "waivers": current.waivers,
        "problems": current.problems, "uncovered": [f"{p.name} × {p.principal}: {p.reason}" for p in current.uncovered()],
        "previous": None if previous is None else {"started": previous.run.get("started"),
                                                   "seed": previous.run.get("seed")},
        "changes": diff(current, previous),
    }


def _line(f: dict) -> str:
    where = f"query {f['query']}" if f.get("query") else f.get("operation")
    return f"{f['id']} {f.get('kind')} on {where} as {f.get('principal')} → {f.get('victim_tenant')}"


def render_markdown(s: dict) -> str:
    t = s["tested"]
    out = [f"# Tenant isolation sign-off: **{s['verdict']}**", "",
           f"Scenario `{t['scenario']}` at `{t['target']}`, profile `{t['profile']}`, seed {t['seed']}, "
           f"started {t['started']}, {t['duration_s']} s, harness {t['harness']}.", "",
           "## What was tested", "",
           f"- operations covered: {t['operations']} × {t['principals']} principals ({t['pairs_covered']} pairs "
           f"covered, {t['pairs_forbidden']} forbidden for their role, {t['pairs_uncovered']} uncovered)",
           f"- reporting queries returning rows: {t['queries']}",
           f"- phases: {', '.join(t['phases'])}; requests: {t['requests']}"]
    if t["incomplete"]:
        out.append(f"- **incomplete**: {t['incomplete']}")
    out += ["", "## Database audit", ""]
    if not s["audit_ran"]:
        out.append("Not run (the audit needs the database: the `release` profile runs it in-process or with "
                   "`--target-db-url`).")
    else:
        out += [f"- {_line(f)}: {f.get('evidence')}" for f in s["audit"]] or ["No issue: RLS enabled and forced, "
                                                                               "policies present, app role bound."]
        if s["security_definer"]:
            out.append(f"- SECURITY DEFINER functions to review: {', '.join(map(str, s['security_definer']))}")
    ch = s["changes"]
    out += ["", "## Since the previous release", ""]
    if s["previous"] is None:
        out.append("No previous report given (`--previous findings.json`): every finding is listed as new.")
    out += [f"- new ({len(ch['new'])}): " + (", ".join(f["id"] for f in ch["new"]) or "none"),
            f"- fixed ({len(ch['fixed'])}): " + (", ".join(f["id"] for f in ch["fixed"]) or "none"),
            f"- still present ({len(ch['persisting'])}): " + (", ".join(f["id"] for f in ch["persisting"]) or "none")]
    out += ["", f"## Findings ({len(s['findings'])})", ""]
    out += [f"- **{_line(f)}**: {f.get('evidence')}" for f in s["findings"]] or ["None."]
    out += ["", f"## Waivers ({len(s['waivers'])})", ""]
    out += [f"- `{w.get('id') or (str(w.get('kind')) + ' on ' + str(w.get('operation')))}` ({w.get('status')}): "
            f"{w.get('reason')}" + (f", expires {w['expires']}" if w.get("expires") else ", no expiry")
            for w in s["waivers"]] or ["None."]
    if s["notes"]:
        out += ["", f"## Notes, not failing ({len(s['notes'])})", ""]
        out += [f"- {_line(f)}: {f.get('evidence')}" for f in s["notes"]]
    if s["problems"] or s["uncovered"]:
        out += ["", "## Problems", ""] + [f"- {p}" for p in s["problems"] + s["uncovered"]]
    return "\n".join(out) + "\n"


def render_html(s: dict) -> str:
    """The same document as HTML (a heading per section, the Markdown's lines as paragraphs)."""
    body = []
    for line in render_markdown(s).splitlines():
        text = escape(line.lstrip("#- ").replace("**", "").replace("`", ""))
        if line.startswith("# "):
            body.append(f'<h1 class="{"good" if s["verdict"] == "PASS" else "bad"}">{text}</h1>')
        elif line.startswith("## "):
            body.append(f"<h2>{text}</h2>")
        elif line.startswith("- "):
            body.append(f"<li>{text}</li>")
        elif line:
            body.append(f"<p>{text}</p>")
    style = ("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#1f2328}"
             ".good{color:#1a7f37}.bad{color:#cf222e}li{margin:.2em 0}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Tenant isolation sign-off</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _model(path) -> m.RunModel:
    file = Path(path)
    file = file if file.suffix == ".json" else file / "findings.json"
    try:
        return m.from_document(json.loads(file.read_text()))
    except OSError as exc:
        raise HarnessError(f"cannot read {file}: {exc.strerror or exc}") from None
    except ValueError:
        raise HarnessError(f"{file} is not a findings document (invalid JSON)") from None


def register(subparsers) -> None:
    p = subparsers.add_parser("release", help="scan with the release profile and write the sign-off report; the "
                                              "exit status is the gate",
                              description="Write release.md and release.html: what was tested, the database audit, "
                                          "findings, waivers, and new/fixed/still-present findings against the "
                                          "previous release. Exit 0 only if the scan passes.")
    p.add_argument("--scenario", metavar="PATH", help="scan this scenario with the release profile first")
    p.add_argument("--findings", metavar="FILE", help="sign off this findings.json (or folder) instead of scanning")
    p.add_argument("--previous", metavar="FILE", help="the previous release's findings.json (or its folder)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default="release", help="the scan's profile (default release)")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN")
    p.add_argument("--base-url", metavar="URL")
    p.add_argument("--out", default="reports", metavar="DIR")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.report import _write
    from harness.scan import output

    if not args.findings and not args.scenario:
        raise HarnessError("release: pass --scenario PATH (scan now) or --findings FILE (sign off a scan made)")
    previous = _model(args.previous) if args.previous else None
    out = output.check_writable(args.out)
    if args.findings:
        current = _model(args.findings)
    else:
        from harness.scan.command import scan_args, run as scan

        code = scan(scan_args(scenario=args.scenario, seed=args.seed, profile=args.profile, db_url=args.db_url,
                              base_url=args.base_url, out=str(out)))
        if code not in (0, 1, 124):
            return code  # the scan could not run: its one line is already on stderr
        current = _model(out / "findings.json")
    facts = sign_off(current, previous)
    _write(out / "release.md", render_markdown(facts))
    _write(out / "release.html", render_html(facts))
    ch = facts["changes"]
    print(f"release sign-off: {facts['verdict']} ({len(facts['findings'])} findings: {len(ch['new'])} new, "
          f"{len(ch['persisting'])} still present; {len(ch['fixed'])} fixed) → {out / 'release.md'}")
    return 0 if current.ok else 1
