"""The ``tenant-harness`` command.

Each subcommand is one ``register(subparsers)`` function that adds its parser and sets
``handler=`` (a function of the parsed arguments returning an exit code); adding a subcommand is
writing such a function and listing it in :data:`COMMANDS`. Set-up problems (:class:`HarnessError`)
end the run with one line on stderr and exit code 2, never a traceback: they are the user's to fix,
and a traceback would bury the one sentence that says how. SIGTERM and SIGINT (see
:mod:`harness.signals`) unwind the run, dropping its databases and stopping its server, and end it with
``tenant-harness: interrupted (SIGTERM)`` and exit code 128 + signal: 143 for SIGTERM, 130 for SIGINT.
A harness bug is one line too (exit 3); ``--debug`` adds the traceback to either.

Exit codes: 0 pass; 1 findings or coverage gaps (scan); 2 the command could not run (usage, scenario,
``--out``, database, target, login); 3 internal error; 124 the scan's deadline passed (reports written,
marked incomplete); 130/143 interrupted by SIGINT/SIGTERM (partial reports written).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from harness import __version__, signals
from harness.errors import HarnessError

PROG = "tenant-harness"
EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130  # interrupted: 128 + signal (130 SIGINT, 143 SIGTERM)
EXIT_INTERNAL, EXIT_INCOMPLETE = 3, 124


def register_db_check(subparsers) -> None:
    p = subparsers.add_parser(
        "db-check", help="start or reach PostgreSQL exactly as a run would, and report its version",
        description="Start (or connect to) the database the harness would use, check it is a usable "
                    "superuser connection, print its version and stop it again.")
    p.add_argument("--db-url", "--harness-db-url", dest="db_url", metavar="DSN", default=None,
                   help="use this server (default: $HARNESS_DATABASE_URL, else testcontainers where "
                        "Docker answers, else an embedded server)")
    p.set_defaults(handler=_db_check)


def _db_check(args: argparse.Namespace) -> int:
    from harness.db import provide_server

    with provide_server(args.db_url) as server:
        version = server.check()
        print(f"ok: PostgreSQL {version} ({server.kind})")
    return EXIT_OK


def register_clean(subparsers) -> None:
    p = subparsers.add_parser(
        "clean", help="remove what killed runs left: embedded PostgreSQL clusters (and run databases "
                      "with --db-url)",
        description="Stop and remove embedded PostgreSQL clusters whose harness process is gone (a run "
                    "killed with SIGKILL leaves one; the next run removes it too). With --db-url, also "
                    "drop run databases (th<pid>_..., threpro_...) on that server whose owner pid is not "
                    "running on this host and that nobody is connected to. On a server shared between "
                    "hosts another host's pid can look dead here: name the server deliberately.")
    p.add_argument("--db-url", dest="db_url", metavar="DSN", default=None,
                   help="superuser DSN of the server to clean (never taken from the environment)")
    p.set_defaults(handler=_clean)


def _clean(args: argparse.Namespace) -> int:
    from harness.db import orphans

    lines = [removed.describe() for removed in orphans.clean_clusters()]
    kept: list[str] = []
    if args.db_url:
        dropped, kept = orphans.clean_databases(args.db_url)
        lines += dropped
    for line in lines + kept:
        print(line)
    if not lines:
        print("nothing to clean")
    return EXIT_OK


#: Subcommand registrars, in the order ``--help`` lists them.
def _lazy(module: str) -> Callable[[argparse._SubParsersAction], None]:
    """A registrar imported only when the parser is built (keeps ``db-check`` light)."""
    def register(subparsers) -> None:
        import importlib

        importlib.import_module(module).register(subparsers)
    return register


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _lazy("harness.scan.command"), _lazy("harness.reproduce"), _lazy("harness.merge"), _lazy("harness.release"),
    _lazy("harness.init"), register_db_check, register_clean]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Security regression harness for multi-tenant isolation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of errors (also after a subcommand)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse has already printed
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    signals.install()
    try:
        code = int(args.handler(args) or EXIT_OK)
        signals.raise_if_interrupted()  # a signal some library turned into a return value (pytest)
        return code
    except KeyboardInterrupt as exc:  # signals.Interrupted, or Ctrl-C where SIGINT was not ours
        return signals.report(exc)
    except HarnessError as exc:
        if signals.received():  # the failure is the interruption's consequence, not the user's to fix
            return signals.report(signals.Interrupted(signals.received()))
        if getattr(args, "debug", False):
            traceback.print_exc()
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a harness bug: one line, the traceback on request
        if signals.received():
            return signals.report(signals.Interrupted(signals.received()))
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"{PROG}: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} (rerun with --debug "
              "for the traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
