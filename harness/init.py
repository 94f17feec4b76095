"""``tenant-harness init --openapi URL``: a commented scenario skeleton, guessed from the spec.

The first ten minutes with a new service go into reading its spec for what the harness needs: how to
log in, how to sign up, which path parameters name a tenant, which operations must never run. This
reads them for the user (security schemes, a login and a sign-up operation by name and shape, tenant-like
path parameters, the dangerous operations :mod:`harness.safety` would leave out) and writes a TOML file
whose every guess is marked for review.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from harness import safety
from harness.errors import HarnessError
from harness.fuzz.operations import load_operations

LOGIN_WORDS = re.compile(r"(^|/)(token|login|log-in|signin|sign-in|sessions?|auth(enticate)?)(/|$)", re.I)
SIGNUP_WORDS = re.compile(r"(^|/)(signup|sign-up|register|registration|join)(/|$)", re.I)
TENANT_PARAMS = {"ws": "workspaces", "workspace": "workspaces", "workspace_slug": "workspaces", "org": "organizations",
                 "org_slug": "organizations", "organization": "organizations", "team": "teams", "tenant": "tenants",
                 "account": "accounts", "company": "companies", "project_slug": "projects"}


def fetch(source: str) -> tuple[dict, str, str]:
    """(spec, base URL, spec path) from a URL or a local file."""
    if "://" not in source:
        path = Path(source)
        if not path.is_file():
            raise HarnessError(f"{source} is neither a URL nor a file: pass --openapi http://host/openapi.json")
        try:
            return json.loads(path.read_text()), "http://127.0.0.1:8000", str(path)
        except ValueError:
            raise HarnessError(f"{source} is not JSON") from None
    try:
        response = httpx.get(source, timeout=10, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise HarnessError(f"cannot fetch {source}: {exc}") from None
    if response.status_code != 200:
        raise HarnessError(f"{source} answered {response.status_code}: pass the URL of the OpenAPI document")
    try:
        spec = response.json()
    except ValueError:
        raise HarnessError(f"{source} is not JSON (an HTML page?): pass the URL of the OpenAPI document") from None
    parts = urlsplit(source)
    return spec, f"{parts.scheme}://{parts.netloc}", parts.path


def _request_media(spec: dict, path: str, method: str) -> str:
    content = ((spec["paths"].get(path, {}).get(method.lower()) or {}).get("requestBody") or {}).get("content") or {}
    media = next(iter(content), "")
    return "form" if "urlencoded" in media else "multipart" if media.startswith("multipart/") else "json"


def _fields(spec: dict, path: str, method: str) -> list[str]:
    content = ((spec["paths"].get(path, {}).get(method.lower()) or {}).get("requestBody") or {}).get("content") or {}
    schema = next(iter(content.values()), {}).get("schema") or {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec.get("components", {}).get("schemas", {}).get(name, {})
    return list(schema.get("required") or schema.get("properties") or {})  # required ones: the rest is optional


def _template(name: str) -> str:
    lowered = name.lower()
    if "mail" in lowered or lowered in ("username", "login", "user"):
        return "{email}"
    if "pass" in lowered:
        return "{password}"
    return "{name} {run}"


def _inline(fields: list[str]) -> str:
    return "{ " + ", ".join(f'{f} = "{_template(f)}"' for f in fields) + " }"


def skeleton(spec: dict, base_url: str, spec_path: str) -> str:
    operations = load_operations(spec)
    labels = [op.label for op in operations]
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    token_urls = [flow.get("tokenUrl") for s in schemes.values() for flow in (s.get("flows") or {}).values()
                  if isinstance(flow, dict) and flow.get("tokenUrl")]
    login = next((f"POST /{u.lstrip('/')}" for u in token_urls if f"POST /{u.lstrip('/')}" in labels), None)
    login = login or next((op.label for op in operations if op.method == "POST" and LOGIN_WORDS.search(op.path)), None)
    signup = next((op.label for op in operations if op.method == "POST" and SIGNUP_WORDS.search(op.path)), None)
    tenant_params = sorted({n for op in operations for n in op.path_params if n.lower() in TENANT_PARAMS
                            or (n.lower().endswith(("slug", "org", "tenant")))})
    dangerous = [(op.label, why) for op in operations if (why := safety.danger(op))]
    server = ((spec.get("servers") or [{}])[0] or {}).get("url", "")
    out = ["# Scenario skeleton written by `tenant-harness init` from the OpenAPI document.",
           "# Every line marked REVIEW is a guess: check it against the service before the first scan.",
           "# Then: tenant-harness scan --scenario THIS_FILE --plan   (prints what would be sent, sends nothing)",
           f'name = "{(spec.get("info") or {}).get("title", "my-service").lower().replace(" ", "-")}"', "",
           "[target]", f'base_url = "{base_url}"          # or --base-url; a non-loopback host also needs --target-host',
           f'openapi = "{spec_path}"' + (f"   # servers[0].url {server!r} is honoured" if server else ""), "",
           "[tenancy]", 'model = "per-user"                  # REVIEW: per-user (each principal its own tenant) | declared',
           '# headers = ["X-Tenant-ID"]          # headers that name a tenant (tampering attacks try each)', "",
           "[principals]", 'role = "user"',
           'signup = ["alice", "bob", "carol"]    # fresh accounts every run ({run} is unique to the run)',
           '# [[principals.declared]]            # or existing accounts, credentials from the environment:',
           '# name = "acme-admin"', '# role = "admin"',
           '# credentials = { email = "$ACME_EMAIL", password = "$ACME_PASSWORD" }', ""]
    schemes_line = ", ".join(f"{n} ({s.get('type')}{'/' + s.get('scheme') if s.get('scheme') else ''})"
                             for n, s in schemes.items()) or "none declared"
    out += [f"# security schemes in the spec: {schemes_line}"]
    if signup:
        method, path = signup.split(" ", 1)
        out += ["[signup]", f'operation = "{signup}"               # REVIEW: guessed from the path',
                f'encoding = "{_request_media(spec, path, method)}"',
                f"body = {_inline(_fields(spec, path, method))}   # REVIEW", ""]
    else:
        out += ["# [signup]                           # no sign-up operation found: declare principals instead",
                '# operation = "POST /signup"', ""]
    out += ["[login]"]
    if login:
        method, path = login.split(" ", 1)
        out += [f'operation = "{login}"               # REVIEW: guessed from the security scheme or the path',
                f'encoding = "{_request_media(spec, path, method)}"',
                f"body = {_inline(_fields(spec, path, method))}   # REVIEW",
                'token = "access_token"              # REVIEW: JSON path of the token in the response',
                '# token_header = "X-Auth-Token"     # or: the token is in a response header',
                '# cookie = "session"                # or: a session cookie (kept by the principal\'s client)',
                '# api_key = "{api_key}"             # or: a static key sent in `header` (no login request)',
                '# hook = "mypackage.auth:login"     # or: a Python function (principal, client) -> headers']
    else:
        out += ['operation = "POST /login"           # REVIEW: no login operation found in the spec']
    out += ["", "[resources]                          # parameters that name an object by a field other than its id"]
    for name in tenant_params:
        kind = TENANT_PARAMS.get(name.lower(), f"{name}s")
        out.append(f'{name} = "{kind}.slug"                 # REVIEW: tenant-like path parameter')
    out += ["", "[seed]", "objects = 2                          # per principal and resource type, made through the API",
            "# skip = []                           # create operations not to use", "",
            "[safety]", "allow = []                           # dangerous operations to run anyway, by name",
            "skip = []                            # operations never to send",
            "# rate = 20                          # requests per second; timeout = 10; concurrency = 8"]
    if dangerous:
        out.append("# left out by default (see README, Testing your own app):")
        out += [f"#   {label}: {why}" for label, why in dangerous]
    out += ["", '# [bodies."POST /things"]           # values where a request schema is too loose ({canary} available)',
            '# name = "thing {canary}"']
    return "\n".join(out) + "\n"


def register(subparsers) -> None:
    p = subparsers.add_parser("init", help="write a commented scenario skeleton (TOML) from an OpenAPI document",
                              description="Read the OpenAPI document and write a scenario skeleton: security "
                                          "schemes, a guess at the login and sign-up operations, tenant-like path "
                                          "parameters, and the dangerous operations a scan leaves out.")
    p.add_argument("--openapi", required=True, metavar="URL", help="the OpenAPI document (URL or file)")
    p.add_argument("--out", default="scenario.toml", metavar="PATH")
    p.add_argument("--force", action="store_true", help="overwrite PATH")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise HarnessError(f"{out} exists: pass --force to overwrite it, or --out another path")
    spec, base_url, spec_path = fetch(args.openapi)
    out.write_text(skeleton(spec, base_url, spec_path))
    print(f"wrote {out}: review the lines marked REVIEW, then `tenant-harness scan --scenario {out} --plan`")
    return 0
