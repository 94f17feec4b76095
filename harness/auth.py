"""Logging a principal in, whatever the target expects; signing fresh principals up.

Real services log in with an OAuth2 password form, a JSON body, a multipart form, a static API key or a
session cookie, and hand the token back in a body field, a header or a cookie. A :class:`LoginSpec`
says which; the principal's own client does the login, so a session cookie stays in its jar and every
later request carries it. Anything else is a hook, ``module:function(principal, client)``, that may
return headers. A scenario without a spec keeps the historical path: ``login_request`` (a JSON post)
and ``auth_headers``.

Templates: every string in a body may name the principal's credentials, ``{email}``, ``{password}``,
``{name}``, ``{run}`` (the run-unique suffix of signed-up principals), or anything else they hold.
"""

from __future__ import annotations

import importlib
import inspect
import string
from dataclasses import dataclass, field

import httpx

from harness.errors import HarnessError, ScenarioError

ENCODINGS = ("json", "form", "multipart")


@dataclass(frozen=True)
class LoginSpec:
    """How one principal logs in. ``operation`` is ``"METHOD /path"`` relative to the API base."""

    operation: str | None = None
    encoding: str = "json"
    body: dict = field(default_factory=dict)
    #: Where the token is: a JSON path in the response body (``access_token``, ``data.token``) …
    token: str | None = "access_token"
    #: … or a response header …
    token_header: str | None = None
    #: … or a session cookie of this name, kept by the principal's client (no header is set).
    cookie: str | None = None
    #: How the token is sent back.
    header: str = "Authorization"
    scheme: str | None = "Bearer"
    #: A static API key (a template such as ``"{api_key}"``): no login request at all.
    api_key: str | None = None
    #: ``module:function`` called with (principal, client) for anything else; may return headers.
    hook: str | None = None

    def __post_init__(self):
        if self.encoding not in ENCODINGS:
            raise ScenarioError(f"login encoding {self.encoding!r} is not one of {', '.join(ENCODINGS)} "
                                f"(e.g. encoding = \"form\" for an OAuth2 password form)")
        if not (self.operation or self.api_key or self.hook):
            raise ScenarioError('login needs an operation, an api_key or a hook, e.g. operation = "POST /token"')


@dataclass(frozen=True)
class SignupSpec:
    """How a fresh principal is created every run (``{run}`` makes its names unique to the run)."""

    operation: str
    encoding: str = "json"
    body: dict = field(default_factory=dict)
    #: The resource type of the account the sign-up creates (its ``id`` joins that type's pool).
    creates: str | None = None


class _Strict(dict):
    def __init__(self, values: dict, where: str):
        super().__init__(values)
        self.where = where

    def __missing__(self, key):
        known = ", ".join(sorted(k for k in self if isinstance(k, str))) or "none"
        raise ScenarioError(f"{self.where} uses {{{key}}}, which the principal does not have (known: {known})")


def render(value, variables: dict, where: str = "template"):
    """``value`` with every ``{name}`` in its strings replaced from ``variables`` (recursively)."""
    if isinstance(value, str):
        if not any(name for _, name, _, _ in string.Formatter().parse(value) if name is not None):
            return value
        return value.format_map(_Strict(variables, where))
    if isinstance(value, dict):
        return {k: render(v, variables, where) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables, where) for v in value]
    return value


def split_operation(label: str) -> tuple[str, str]:
    method, _, path = label.strip().partition(" ")
    if not path.startswith("/"):
        raise ScenarioError(f"operation {label!r} must be \"METHOD /path\", e.g. \"POST /token\"")
    return method.upper(), path.strip()


def encode(encoding: str, body) -> dict:
    """httpx keyword arguments that send ``body`` as JSON, a urlencoded form, or multipart."""
    if body is None:
        return {}
    if encoding == "form":
        return {"data": {k: v if isinstance(v, str) else str(v) for k, v in body.items()}}
    if encoding == "multipart":
        files, data = {}, {}
        for name, value in body.items():
            if isinstance(value, (bytes, bytearray)):
                files[name] = (f"{name}.bin", bytes(value), "application/octet-stream")
            elif isinstance(value, tuple):
                files[name] = value
            elif value is not None:
                data[name] = value if isinstance(value, str) else str(value)
        # An empty ``files`` makes httpx send a urlencoded form; a multipart endpoint needs the boundary.
        return {"data": data, "files": files or {"_": ("", b"", "application/octet-stream")}}
    return {"json": body}


def json_path(data, path: str):
    """``data["a"]["b"]`` for ``"a.b"`` (a leading ``$.`` is allowed; list indexes as numbers)."""
    for part in path.removeprefix("$.").split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def _hook(ref: str):
    module, _, name = ref.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ScenarioError(f"hook {ref!r} cannot be imported ({exc}): name it as module:function "
                            f"on the Python path") from None


async def call_hook(ref: str, *args):
    result = _hook(ref)(*args)
    return await result if inspect.isawaitable(result) else result


async def login(scenario, client: httpx.AsyncClient, principal) -> None:
    """Log ``principal`` in on its own ``client``: headers set (or cookies kept) on that client."""
    spec: LoginSpec | None = scenario.login_spec()
    values = {"name": principal.name, **principal.credentials}
    if spec is None:
        method, path, body = scenario.login_request(principal)
        response = await client.request(method, path, json=body)
        _refused(principal, method, path, response)
        try:
            data = response.json()
        except ValueError:  # an empty or HTML body: the login answered, but with no token
            data = None
        if not isinstance(data, dict):
            shown = repr(response.text[:80]) if response.content else "an empty body"
            raise HarnessError(f"login of {principal.name} answered {response.status_code} with {shown} "
                               f"instead of a JSON object: check the login endpoint ({method} {path})")
        client.headers.update(scenario.auth_headers(data))
        return
    if spec.hook:
        headers = await call_hook(spec.hook, principal, client)
        if headers:
            client.headers.update(headers)
        return
    if spec.api_key:
        client.headers[spec.header] = _value(spec, render(spec.api_key, values, "login api_key"))
        return
    method, path = split_operation(spec.operation)
    body = render(spec.body, values, f"login body of {principal.name}")
    response = await client.request(method, path, **encode(spec.encoding, body))
    _refused(principal, method, path, response)
    if spec.cookie:
        if spec.cookie not in client.cookies and spec.cookie not in response.cookies:
            raise HarnessError(f"login of {principal.name} set no {spec.cookie!r} cookie: check [login] cookie")
        return
    if spec.token_header:
        token = response.headers.get(spec.token_header)
    else:
        try:
            token = json_path(response.json(), spec.token)
        except ValueError:
            token = None
    if not isinstance(token, str) or not token:
        where = f"header {spec.token_header!r}" if spec.token_header else f"field {spec.token!r}"
        raise HarnessError(f"login of {principal.name} answered {response.status_code} without a token in {where}: "
                           f"check [login] token")
    client.headers[spec.header] = _value(spec, token)


def _value(spec: LoginSpec, token: str) -> str:
    return f"{spec.scheme} {token}" if spec.scheme else token


def _refused(principal, method: str, path: str, response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise HarnessError(f"principal {principal.name} cannot log in: {method} {path} answered "
                           f"{response.status_code} {response.text[:120]!r}")


async def signup(spec: SignupSpec, client: httpx.AsyncClient, principal) -> dict:
    """Create ``principal``'s account; returns the response body (its id, its workspace…) as a dict."""
    method, path = split_operation(spec.operation)
    body = render(spec.body, {"name": principal.name, **principal.credentials}, f"signup body of {principal.name}")
    response = await client.request(method, path, **encode(spec.encoding, body))
    if response.status_code >= 300:
        raise HarnessError(f"cannot sign {principal.name} up: {method} {path} answered {response.status_code} "
                           f"{response.text[:160]!r}: check [signup] body")
    try:
        data = response.json()
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}
