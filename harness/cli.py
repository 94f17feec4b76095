"""The ``tenant-harness`` command.

Each subcommand is one ``register(subparsers)`` function that adds its parser and sets
``handler=`` (a function of the parsed arguments returning an exit code); adding a subcommand is
writing such a function and listing it in :data:`COMMANDS`. Set-up problems (:class:`HarnessError`)
end the run with one line on stderr and exit code 2, never a traceback: they are the user's to fix,
and a traceback would bury the one sentence that says how.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from harness import __version__
from harness.errors import HarnessError

PROG = "tenant-harness"
EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130


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


#: Subcommand registrars, in the order ``--help`` lists them.
def _lazy(module: str) -> Callable[[argparse._SubParsersAction], None]:
    """A registrar imported only when the parser is built (keeps ``db-check`` light)."""
    def register(subparsers) -> None:
        import importlib

        importlib.import_module(module).register(subparsers)
    return register


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _lazy("harness.scan.command"), _lazy("harness.reproduce"), register_db_check]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Security regression harness for multi-tenant isolation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    try:
        return int(args.handler(args) or EXIT_OK)
    except HarnessError as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
