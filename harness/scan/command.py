"""``tenant-harness scan``: the isolation scan, as a pytest run of the packaged scan module."""

from __future__ import annotations

import argparse

import pytest

from harness.scan import TEST_MODULE


def register(subparsers) -> None:
    p = subparsers.add_parser("scan", help="run the full isolation scan of a scenario and write reports/",
                              description="Seed the world, log in as every principal, fuzz every operation "
                                          "and query, and write findings.json, junit.xml, findings.sarif, "
                                          "index.html and summary.md. Exit 0 only with zero findings and "
                                          "full coverage.")
    p.add_argument("--scenario", required=True, metavar="PATH", help="scenario file (defines SCENARIO)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default="pr", help="pr | nightly | release")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN")
    p.add_argument("--base-url", metavar="URL", help="scan a live target instead of building the app in-process")
    p.add_argument("--target-db-url", metavar="DSN", help="the live target's database, for write isolation")
    p.add_argument("--out", default="reports", metavar="DIR")
    p.add_argument("--phases", metavar="LIST", help="comma list: audit,replay,sweep,reports,fuzz,stateful,noninterference "
                                                     "(default: the profile's)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(handler=run)


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
                        ("--harness-target-db-url", args.target_db_url), ("--harness-phases", args.phases)):
        if value:
            argv += [flag, value]
    return argv + list(args.pytest_args)


def run(args: argparse.Namespace) -> int:
    return int(pytest.main(build_args(args)))
