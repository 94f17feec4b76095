"""``python -m phoenix serve|faults|demo``.

- ``serve --db-url DSN [--host H --port P]``: run the API with uvicorn (DSN of the phoenix_app role).
- ``faults``: the planted-fault catalogue, one ``name<TAB>class<TAB>affects<TAB>description`` line each.
- ``demo``: a throwaway embedded PostgreSQL with Phoenix installed and seeded, one login per role
  printed, served until Ctrl-C; the server is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from phoenix import config

DEMO_DB = "phoenix_demo"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1..65535, not {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m phoenix", description="Phoenix reference target")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--db-url", default=os.environ.get(config.ENV_DB),
                       help=f"phoenix_app DSN (default: ${config.ENV_DB})")
    serve.add_argument("--reporting-db-url", default=None, help="phoenix_reporting DSN (default: derived)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    listing = sub.add_parser("faults", help="list the planted-fault catalogue")
    listing.add_argument("--markdown", action="store_true", help="a Markdown table (README's catalogue)")
    demo = sub.add_parser("demo", help="embedded database + seeded world + server, until Ctrl-C")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8000)
    return parser


def fault_lines() -> list[str]:
    from phoenix import faults

    faults.parse("")  # loads the catalogue
    return [f"{f.name}\t{f.cls}\t{','.join(f.affects)}\t{f.description}"
            for f in sorted(faults.REGISTRY.values(), key=lambda f: f.name)]


def fault_markdown() -> str:
    """The catalogue as the Markdown table README embeds, so the two cannot drift (a test compares)."""
    from phoenix import faults

    faults.parse("")
    rows = ["| fault | class | affects | what goes wrong |", "|---|---|---|---|"]
    for f in sorted(faults.REGISTRY.values(), key=lambda f: f.name):
        affects = "<br>".join(f"`{a}`" for a in f.affects)
        description = f.description.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {f.cls} | {affects} | {description} |")
    return "\n".join(rows)


@dataclass
class Demo:
    app_dsn: str
    reporting_dsn: str
    #: role -> (email, password), one principal per role of the first tenant.
    logins: dict[str, tuple[str, str]]


def prepare_demo(server, name: str = DEMO_DB, seed: int = 1) -> Demo:
    """Create, install and seed the demo database on ``server`` (an ``harness.db`` server)."""
    import psycopg

    from harness.world import write_tables
    from phoenix import install, seed as seeding

    admin = server.create_database(name)
    install.install(admin)
    dataset = seeding.generate(seed)
    with psycopg.connect(admin) as conn:
        write_tables(conn, dataset.tables)
    home = dataset.logins[0].tenant_slug
    logins = {}
    for login in dataset.logins:
        if login.role not in logins and (login.tenant_slug == home or login.role == "corporate_admin"):
            logins[login.role] = (login.email, login.password)
    return Demo(server.dsn(name, install.APP_ROLE, install.APP_PASSWORD),
                server.dsn(name, install.REPORTING_ROLE, install.REPORTING_PASSWORD), logins)


def _serve(app, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "faults":
        print(fault_markdown() if args.markdown else "\n".join(fault_lines()))
        return 0
    from phoenix.app import create_app

    if args.command == "serve":
        if not args.db_url:
            build_parser().error(f"serve needs --db-url or ${config.ENV_DB}")
        if not args.db_url.startswith(("postgresql://", "postgres://")):
            build_parser().error("--db-url must be a postgresql:// URL")
        _serve(create_app(args.db_url, reporting_db_url=args.reporting_db_url), args.host, args.port)
        return 0
    from harness.db import provide_server

    with provide_server() as server:
        demo = prepare_demo(server)
        for role, (email, password) in demo.logins.items():
            print(f"{role:16} {email}  {password}")
        print(f"API docs: http://{args.host}:{args.port}/docs  (Ctrl-C to stop; the database is removed)")
        sys.stdout.flush()
        try:
            _serve(create_app(demo.app_dsn, reporting_db_url=demo.reporting_dsn), args.host, args.port)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
