"""``tenant-harness scan``: the isolation scan, as a pytest run of the packaged scan module.

Exit codes: 0 zero findings and full coverage; 1 findings or coverage gaps; 2 the scan could not run
(one line says what to fix: options, ``--out``, scenario, database, target, login); 3 a harness bug;
124 the deadline stopped the scan (reports written, marked incomplete); 130/143 SIGINT/SIGTERM
(reports written, marked incomplete). The options and ``--out`` are checked before anything starts.
"""

from __future__ import annotations

import argparse

import pytest

from harness.scan import TEST_MODULE, options, output


def register(subparsers) -> None:
    p = subparsers.add_parser("scan", help="run the full isolation scan of a scenario and write reports/",
                              description="Seed the world, log in as every principal, fuzz every operation "
                                          "and query, and write findings.json, junit.xml, findings.sarif, "
                                          "index.html and summary.md. Exit 0 only with zero findings and "
                                          "full coverage; 1 findings or gaps; 2 the scan could not run; "
                                          "124 stopped at its deadline; 130/143 interrupted.")
    p.add_argument("--scenario", required=True, metavar="PATH", help="scenario file (defines SCENARIO)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default="pr", help="pr | nightly | release")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN")
    p.add_argument("--base-url", metavar="URL", help="scan a live target instead of building the app in-process")
    p.add_argument("--target-db-url", metavar="DSN", help="the live target's database, for write isolation")
    p.add_argument("--out", default="reports", metavar="DIR", help="report directory (checked writable first)")
    p.add_argument("--deadline", metavar="SECONDS", help="stop the scan after this long, write the reports marked "
                                                         "incomplete and exit 124 (default: the profile's)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks for set-up errors")
    p.add_argument("--corpus", metavar="DIR", help="regression corpus (a folder under version control): its "
                                                   "findings are replayed first, this run's new ones added")
    p.add_argument("--shard", metavar="I/N", help="scan share I of N (1-based) of the operations and queries; "
                                                   "`tenant-harness merge` joins the shards' reports")
    p.add_argument("--waivers", metavar="FILE", help="waivers file kept under version control (TOML [[waivers]] "
                                                      "or JSON), added to the scenario's")
    p.add_argument("--phases", metavar="LIST", help="comma list: audit,replay,sweep,reports,fuzz,stateful,noninterference "
                                                     "(default: the profile's)")
    live = p.add_argument_group("live targets (harness/safety.py)")
    live.add_argument("--plan", action="store_true", help="print what the scan would send, send nothing, exit 0")
    live.add_argument("--allow-writes", action="store_true", help="send unsafe methods to a non-loopback target")
    live.add_argument("--target-host", metavar="HOST", help="confirm scanning this non-loopback host")
    live.add_argument("--concurrency", type=int, metavar="N", help="requests in flight (default 8)")
    live.add_argument("--rate", type=float, metavar="N", help="requests per second (default: unpaced on loopback, 20)")
    live.add_argument("--timeout", type=float, metavar="S",
                      help="seconds per request, in-process too (default: the profile's, 10)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(handler=run)


def scan_args(**given) -> argparse.Namespace:
    """The parsed arguments of ``tenant-harness scan`` for ``given`` options (others at their defaults),
    for commands that run a scan themselves (``release``)."""
    parser = argparse.ArgumentParser(prog="tenant-harness")
    register(parser.add_subparsers())
    argv = ["scan"]
    for name, value in given.items():
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return parser.parse_args(argv)


def build_args(args: argparse.Namespace) -> list[str]:
    argv = [str(TEST_MODULE), "-p", "no:cacheprovider", "-p", "harness.scan.interrupts", "--no-header", "-rN",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            # SIGTERM/SIGINT during the campaign unwinds through plugins' hook wrappers; the CLI says so
            # in one line (harness.signals), the wrapper's warning about it would only add noise.
            "-W", "ignore::pluggy.PluggyTeardownRaisedWarning",
            "--harness-scenario", args.scenario, "--harness-seed", str(args.seed),
            "--harness-profile", args.profile, "--harness-reports", args.out,
            "--rootdir", ".", "-o", "addopts=", "-o", "testpaths="]
    if not args.quiet:
        argv.append("--harness-verbose")
    for flag, value in (("--harness-db-url", args.db_url), ("--harness-base-url", args.base_url),
                        ("--harness-target-db-url", args.target_db_url), ("--harness-phases", args.phases),
                        ("--harness-target-host", args.target_host), ("--harness-concurrency", args.concurrency),
                        ("--harness-rate", args.rate), ("--harness-timeout", args.timeout),
                        ("--harness-deadline", args.deadline), ("--harness-waivers", args.waivers),
                        ("--harness-shard", args.shard), ("--harness-corpus", args.corpus)):
        if value:
            argv += [flag, str(value)]
    if args.allow_writes:
        argv.append("--harness-allow-writes")
    if getattr(args, "debug", False):
        argv.append("--harness-debug")
    return argv + list(args.pytest_args)


def run(args: argparse.Namespace) -> int:
    # Bad choices are one line before anything starts; the plugin checks them again for pytest users.
    options.phases(args.phases)
    options.seconds(args.deadline, "--deadline")
    options.seconds(args.timeout, "--timeout")
    options.shard(args.shard)
    if not args.plan:
        output.check_writable(args.out)
    if args.plan:
        from harness.context import Options
        from harness.safety import plan
        from harness.scenario import load_scenario

        print(plan(load_scenario(args.scenario), Options(
            seed=args.seed, profile=args.profile, base_url=args.base_url, allow_writes=args.allow_writes,
            target_host=args.target_host, concurrency=args.concurrency, rate=args.rate, timeout=args.timeout)))
        return 0
    return int(pytest.main(build_args(args)))
