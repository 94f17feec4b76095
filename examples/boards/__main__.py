"""``python -m examples.boards serve|install|leaks``.

- ``serve --db-url DSN [--host H] [--port N] [--leaks a,b]``: install the schema (idempotent) and serve
  with uvicorn; ``BOARDS_LEAKS`` adds leaks; ``all`` switches every one on.
- ``install --db-url DSN``: only create the tables.
- ``leaks``: the catalogue, one ``name<TAB>affected operations<TAB>description`` line each.
"""

from __future__ import annotations

import argparse
import os
import sys

from examples.boards import leaks as catalogue

ENV_DB = "BOARDS_DATABASE_URL"


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def _leaks(text: str) -> frozenset[str]:
    try:
        return catalogue.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m examples.boards", description="Boards example target")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="install the schema and serve with uvicorn")
    install = sub.add_parser("install", help="create the tables")
    for command in (serve, install):
        command.add_argument("--db-url", default=os.environ.get(ENV_DB), help=f"PostgreSQL DSN (default: ${ENV_DB})")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--leaks", type=_leaks, default=frozenset(), help="comma-separated leak names, or all")
    sub.add_parser("leaks", help="list the leak catalogue")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "leaks":
        for leak in catalogue.REGISTRY.values():
            print(f"{leak.name}\t{', '.join(leak.affects)}\t{leak.description}")
        return 0
    if not args.db_url:
        parser.error(f"--db-url is required (or set {ENV_DB})")
    from examples.boards.schema import install

    install(args.db_url)
    if args.command == "install":
        return 0
    try:
        catalogue.from_env()
    except ValueError as exc:
        parser.error(f"{catalogue.ENV}: {exc}")
    import uvicorn

    from examples.boards.app import create_app

    uvicorn.run(create_app(args.db_url, args.leaks), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
