"""Phase ``seed`` (live targets without a world): the world made through the API, with canaries.

A live service has no world the harness generated, and its database is not the harness's to write. So
every principal creates, through the API, at least ``Scenario.api_seed`` objects of every resource
type that has a create operation (``POST .../<collection>``), parents before children (path nesting,
and ``*_id`` body fields naming another type), with bodies built from the request schemas (JSON, form,
or multipart with a small file) and the scenario's body hints. Every free-text value carries a
**canary**: a short high-entropy token unique to that object, registered in the ownership index under
its owner, so any later sighting names the owner exactly, whatever the id type. Keys (``id``, or the
field the scenario names, a slug…) come from the create response, else from the owner's own list.

:func:`accounts` signs fresh principals up (before the logins); :func:`seed_world` is also what
:func:`harness.safety.recover` calls to re-seed after an operation broke a principal.
"""

from __future__ import annotations

import re
import secrets
import string

from harness import auth
from harness.errors import HarnessError
from harness.fuzz.probes import Probe
from harness.fuzz.resources import plural

_ALPHABET = string.ascii_lowercase + string.digits
_COLLECTION = re.compile(r"/([A-Za-z][\w-]*)/?$")


def canary() -> str:
    """A short token no real data contains by chance: lowercase letters and digits (fits slugs and names)."""
    return "zq" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


# -- accounts ----------------------------------------------------------------------------------------------
async def accounts(ctx, target, principals=None) -> None:
    """Sign up every principal the scenario creates per run (those whose credentials carry ``run``)."""
    spec = getattr(ctx.scenario, "signup", None)
    fresh = [p for p in (principals or ctx.principals) if "run" in p.credentials]
    if spec is None or not fresh:
        return
    if not ctx.policy.writes:
        raise HarnessError(f"signing principals up writes to {ctx.policy.host}: pass --allow-writes, or declare "
                           f"existing principals in the scenario")
    for p in fresh:
        p.credentials["account"] = await auth.signup(spec, target.anonymous, p)


def abandon(ctx, p) -> None:
    """Forget what ``p`` made (its old account is broken): its requests must not use those objects."""
    for (creator, _), objects in ctx.ids.created.items():
        if creator == p.name:
            for obj in objects:
                obj.gone = True
    for key in [k for k in ctx.ids.seen if k[0] == p.name]:
        ctx.ids.seen[key] = []


def renew(p) -> None:
    """New credentials for a signed-up principal (a new run suffix): the old account may be broken."""
    old = p.credentials["run"]
    run = secrets.token_hex(3)
    for key, value in list(p.credentials.items()):
        if isinstance(value, str) and old in value:
            p.credentials[key] = value.replace(old, run)
    p.credentials["run"] = run
    p.credentials["password"] = f"Th-{secrets.token_urlsafe(12)}-9"


# -- the phase --------------------------------------------------------------------------------------------
async def run(ctx) -> None:
    if ctx.policy is None or ctx.world.tables or not getattr(ctx.scenario, "api_seed", 0):
        return  # in-process, or a world the scenario generated: nothing to make through the API
    if not ctx.policy.writes:
        ctx.skipped.append(f"seed: creating objects writes to {ctx.policy.host}: pass --allow-writes")
        return
    await seed_world(ctx, ctx.principals)


async def seed_world(ctx, principals) -> dict[str, int]:
    """Create each principal's objects; returns objects created per resource type."""
    register_accounts(ctx, principals)
    counts: dict[str, int] = {}
    creates = create_operations(ctx)
    for p in principals:
        for op, kind in creates:
            for i in range(ctx.scenario.api_seed):
                if await create(ctx, op, kind, p, i):
                    counts[kind] = counts.get(kind, 0) + 1
    for op, kind in creates:
        if not counts.get(kind):
            ctx.skipped.append(f"seed: {op.label} created no {kind} object (give a body in [bodies.\"{op.label}\"]?)")
    ctx.log(f"seed: {', '.join(f'{n} {k}' for k, n in counts.items()) or 'nothing'} created through the API")
    return counts


def register_accounts(ctx, principals) -> None:
    """A signed-up account is an object of its principal's tenant, and what it carries of the run's
    unique suffix (its display name, its e-mail) names that owner wherever it shows up: a directory
    that lists every account is then seen for what it is (and waived if public by design)."""
    kind = getattr(getattr(ctx.scenario, "signup", None), "creates", None)
    for p in principals:
        account = p.credentials.get("account") or {}
        if kind and account.get("id") is not None:
            register(ctx, kind, account["id"], p.tenant, account, p)
        run = p.credentials.get("run")
        for value in account.values() if run else ():
            if isinstance(value, str) and run in value:
                ctx.index.add(value, p.tenant)


def kind_of(ctx, name: str, path: str) -> str | None:
    """The resource type a parameter named ``name`` (at ``path``) refers to."""
    aliases = ctx.scenario.resource_aliases
    if name in aliases:
        return str(aliases[name]).partition(".")[0]
    if name.endswith("_id"):
        return plural(name[:-3])
    if name in ("id", "ids"):
        static = [s for s in path.split("/") if s and not s.startswith("{")]
        return static[-1].replace("-", "_") if static else None
    return None


def create_operations(ctx) -> list[tuple]:
    """(operation, resource type) of every usable create, parents before children."""
    found = {}
    for op in ctx.operations:
        match = _COLLECTION.search(op.path)
        if op.method != "POST" or not match or op.label in ctx.scenario.seed_skip:
            continue
        found[op.label] = (op, match.group(1).replace("-", "_"))
    kinds = {kind for _, kind in found.values()}

    def needs(op) -> set[str]:
        deps = {kind_of(ctx, n, op.path) for n in op.path_params}
        deps |= {kind_of(ctx, n, op.path) for n in _properties(op)[0] if n.endswith("_id")}
        return {d for d in deps if d in kinds}

    ordered, done = [], set()
    pending = sorted(found.values(), key=lambda item: (item[0].path.count("{"), item[0].path))
    while pending:
        ready = [item for item in pending if needs(item[0]) - {item[1]} <= done]
        if not ready:  # a cycle: take the rest as they come
            ready = pending[:1]
        for item in ready:
            pending.remove(item)
            ordered.append(item)
            done.add(item[1])
    return ordered


def _properties(op) -> tuple[dict, set, str, dict]:
    """(properties, required, media type, raw schema) of the operation's request body."""
    try:
        bodies = list(op.st_operation.body) if op.st_operation is not None else []
    except Exception:
        bodies = []
    if not bodies:
        return {}, set(), "", {}
    body = next((b for b in bodies if "json" in b.media_type), bodies[0])
    schema = _branch((body.definition or {}).get("schema") or {})
    return dict(schema.get("properties") or {}), set(schema.get("required") or ()), body.media_type, schema


def _branch(schema: dict) -> dict:
    """The first non-null alternative of an ``anyOf``/``oneOf`` (``str | None`` fields)."""
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or ():
            if isinstance(option, dict) and option.get("type") != "null":
                return {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **option}
    return schema


def own_objects(ctx, kind: str, p) -> list:
    """Keys of the live objects of ``kind`` that ``p`` created, oldest first."""
    return [o.key for o in ctx.ids.created.get((p.name, kind), ()) if not o.gone]


async def create(ctx, op, kind: str, p, i: int) -> bool:
    """One object of ``kind`` for ``p`` through ``op``; registered (key, owner, canaries) on success."""
    path_params = {}
    parent = None
    for name in op.path_params:
        owned = own_objects(ctx, kind_of(ctx, name, op.path), p)
        if not owned:
            return False
        path_params[name] = owned[i % len(owned)]
        parent = (kind_of(ctx, name, op.path), path_params[name])
    token = canary()
    body, texts = build_body(ctx, op, kind, p, i, token)
    probe = Probe(op, path_params, {}, {}, body)
    response = await ctx.exchange.send(ctx.target.clients[p.name], p, probe, "seed")
    if response is None or not 200 <= response.status_code < 300:
        return False
    owner = owner_of(ctx, parent, p)
    data = _json(response)
    key_field = ctx.scenario.resource_keys.get(kind, "id")
    key = data.get(key_field) if isinstance(data, dict) else None
    if key is None:
        key = await _key_from_list(ctx, op, path_params, p, token, key_field)
    if key is None:
        return False
    fields = {**(data if isinstance(data, dict) else {}), **path_params}
    register(ctx, kind, key, owner, fields, p)
    ctx.index.add(token, owner)
    for text in texts:
        ctx.index.add(text, owner)
    ctx.seeded.setdefault(p.name, []).append((kind, key, path_params))
    return True


def owner_of(ctx, parent, p) -> str:
    """An object belongs to its innermost parent's owner (``/w/{ws}/boards``: the workspace's), else to
    the creator's home tenant."""
    if parent is not None:
        owners = ctx.index.owners(str(parent[1])) or ()
        if len(owners) == 1:
            return next(iter(owners))
    return p.tenant


def build_body(ctx, op, kind: str, p, i: int, token: str):
    """A valid body from the request schema; free text carries ``token``; hints override. Returns
    (body, the texts that carry the canary)."""
    if not op.has_body:
        return None, []
    props, required, media, _ = _properties(op)
    hints = ctx.scenario.body_hints.get(op.label, {})
    values = {"canary": token, "name": p.name, "i": i, **{k: v for k, v in p.credentials.items() if isinstance(v, str)}}
    body, texts = {}, []
    for name, raw in props.items():
        schema = _branch(raw if isinstance(raw, dict) else {})
        if name in hints:
            body[name] = auth.render(hints[name], values, f"[bodies.\"{op.label}\"] {name}")
            if isinstance(body[name], str) and token in body[name]:
                texts.append(body[name])
            continue
        value = _value(ctx, name, schema, name in required, media, kind, p, i, token)
        if value is not None:
            body[name] = value
            if isinstance(value, str) and token in value:
                texts.append(value)
            elif isinstance(value, bytes):
                texts.append(token)
    for name, hint in hints.items():
        body.setdefault(name, auth.render(hint, values, f"[bodies.\"{op.label}\"] {name}"))
    return body, [t for t in texts if t != token]


def _value(ctx, name: str, schema: dict, required: bool, media: str, kind: str, p, i: int, token: str):
    kind_ref = kind_of(ctx, name, "") if name.endswith("_id") else None
    if kind_ref:
        owned = own_objects(ctx, kind_ref, p)
        if owned:
            return owned[i % len(owned)]
        return None if not required else _default(schema)
    typ = schema.get("type")
    if media.startswith("multipart/") and (schema.get("format") in ("binary", "base64")
                                            or "contentMediaType" in schema):
        return f"{token} {kind} of {p.name}\n".encode()
    if typ == "string" and "enum" not in schema:
        fmt = schema.get("format")
        if fmt == "email":
            return f"{token}@example.test"
        if fmt in (None, "", "text") or fmt == "password":
            return _text(name, schema, token)
        return schema.get("default") if not required else _default(schema)
    if not required:
        return None
    return _default(schema)


def _text(name: str, schema: dict, token: str) -> str | None:
    """``"<name> <token>"`` fitted to the field's length and pattern (the token alone if only that fits)."""
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10_000))
    pattern = schema.get("pattern")
    for candidate in (f"{name} {token}", token, f"{token}-{name}"):
        if len(candidate) < low:
            candidate += "-" + "x" * (low - len(candidate) - 1)
        if len(candidate) > high:
            continue
        if pattern and not re.search(pattern, candidate):
            continue
        return candidate
    return None


def _default(schema: dict):
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    typ = schema.get("type")
    if typ in ("integer", "number"):
        return schema.get("minimum", 1 if typ == "integer" else 1.0)
    if typ == "boolean":
        return False
    if typ == "array":
        return []
    if typ == "object":
        return {}
    return None


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


async def _key_from_list(ctx, op, path_params: dict, p, token: str, key_field: str):
    """A create that answers no key (204, or no ``id``): find the object by its canary in the owner's list."""
    lister = next((o for o in ctx.operations if o.method == "GET" and o.path == op.path), None)
    if lister is None:
        return None
    response = await ctx.exchange.send(ctx.target.clients[p.name], p, Probe(lister, dict(path_params), {}, {}, None),
                                       "seed")
    data = _json(response) if response is not None else None
    items = data.get("items", data.get("data")) if isinstance(data, dict) else data
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and token in str(item.values()):
            return item.get(key_field)
    return None


def register(ctx, kind: str, key, owner: str, fields: dict, p) -> None:
    """One object made through the API joins the store (and its key the index, when it can be a marker)."""
    ids = ctx.ids
    # A table the world did not generate: its objects are owned (by whoever made them), not shared data.
    ids.tenant_columns.setdefault(kind, "(api owner)")
    known = ids.get(kind, key)
    if known is None:
        ids.add_object(kind, owner, fields, key=key, source="api", creator=p.name)
    else:  # already learnt from the create response: add what only the request knew (its parents)
        for name, value in fields.items():
            known.fields.setdefault(name, value)
    ctx.index.add(str(key), owner)
