"""Safe by default on a live target: where writes may go, what is never sent, and whether the scan broke anyone.

A scan sends thousands of requests, writes among them, to someone's running service. So before the
first byte: a target that is not on this machine must be named explicitly (``--target-host``), and
unsafe methods go only to loopback or with ``--allow-writes``. Operations that act on the principal's
own account (password, e-mail, role, delete-me) or wipe the whole store (a ``GET /admin/reset``) are
left out unless the scenario allows them by name: one of them run by a scanner locks principals out
or empties the target, and every result after it is noise. After each phase every principal must still
log in and still see its own seeded objects (:func:`health`); the campaign names and excludes the
operation that broke one, re-seeds, and goes on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.errors import HarnessError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

#: Words that name a whole-store wipe, in a path, an operationId or a summary.
WIPE_WORDS = {"reset", "wipe", "purge", "flush", "truncate", "nuke", "drop", "dropall", "wipeall", "resetall",
              "clearall"}
#: Path segments and required body fields that act on credentials, roles or the account itself.
ACCOUNT_SEGMENTS = {"password", "passwords", "passwd", "credentials", "role", "roles", "permissions", "email",
                    "emails", "mfa", "2fa", "totp", "api-keys", "apikeys", "api_keys"}
ACCOUNT_FIELDS = {"password", "new_password", "current_password", "old_password", "role", "roles", "email",
                  "is_admin", "is_superuser", "is_staff", "permissions", "scopes"}
#: Path segments of operations that change who may see what (a workspace's members, its invitations):
#: a scan that adds a member changes V(P) behind the scenario's back, and every verdict after it is wrong.
MEMBERSHIP_SEGMENTS = {"members", "memberships", "invitations", "invites", "collaborators", "shares", "sharing"}
#: Paths that are the caller's own account.
SELF_PATHS = {"/me", "/account", "/profile", "/user", "/users/me", "/accounts/me", "/self"}


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and the localhost names: the machine the scan runs on."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WritePolicy:
    host: str
    loopback: bool
    writes: bool

    def describe(self) -> str:
        where = "loopback" if self.loopback else f"remote host {self.host}"
        return f"{where}; unsafe methods {'sent' if self.writes else 'NOT sent (pass --allow-writes)'}"


def check_target(base_url: str, target_host: str | None = None, allow_writes: bool = False) -> WritePolicy:
    """The write policy for ``base_url``; a non-loopback host not named by ``target_host`` is refused.

    Decided from the URL alone, before any request: a typo in ``--base-url`` must not scan production.
    """
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        raise HarnessError(f"base URL {base_url!r} has no host: pass e.g. --base-url http://127.0.0.1:8000")
    loopback = is_loopback(host)
    if not loopback and (target_host or "").lower().strip("[]") != host.strip("[]"):
        raise HarnessError(f"{host} is not this machine: confirm the target with --target-host {host} "
                           f"(and --allow-writes to send unsafe methods to it)")
    return WritePolicy(host, loopback, loopback or allow_writes)


def _words(*texts: str) -> set[str]:
    out: set[str] = set()
    for text in texts:
        text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text or "")
        out |= {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}
    return out


def _schema_required(op) -> set[str]:
    """Required top-level body fields of a Schemathesis operation (empty if it has no object body)."""
    try:
        bodies = list(op.st_operation.body) if op.st_operation is not None else []
    except Exception:
        return set()
    required: set[str] = set()
    for body in bodies:
        schema = (body.definition or {}).get("schema") or {}
        required |= set(schema.get("required") or ())
    return required


def danger(op) -> str | None:
    """Why ``op`` (a :class:`harness.fuzz.operations.Operation`) must not run on a live target, or None."""
    raw = getattr(getattr(op, "st_operation", None), "definition", None)
    raw = getattr(raw, "raw", {}) or {}
    static = [s for s in op.path.strip("/").split("/") if s and not s.startswith("{")]
    words = _words(" ".join(static), raw.get("operationId", ""), raw.get("summary", ""))
    if words & WIPE_WORDS and not ({"password"} & words):
        return f"looks like a whole-store wipe ({', '.join(sorted(words & WIPE_WORDS))})"
    if op.safe:
        return None
    segments = {s.lower() for s in static}
    if segments & ACCOUNT_SEGMENTS:
        return f"acts on credentials or roles ({', '.join(sorted(segments & ACCOUNT_SEGMENTS))})"
    if segments & MEMBERSHIP_SEGMENTS:
        return f"changes who may see what ({', '.join(sorted(segments & MEMBERSHIP_SEGMENTS))}): V(P) must stay as declared"
    if re.sub(r"/\{[^}]+\}", "", op.path.rstrip("/")) in SELF_PATHS and op.method in {"PUT", "PATCH", "DELETE"}:
        return "changes or deletes the principal's own account"
    if op.method in {"PUT", "PATCH"} and (fields := _schema_required(op) & ACCOUNT_FIELDS):
        return f"sets {', '.join(sorted(fields))}"
    return None


def exclusions(operations, allow=(), skip=()) -> dict[str, str]:
    """Operation label -> why it is left out: dangerous ones (unless allowed by name) and skipped ones."""
    out = {}
    for op in operations:
        if op.label in skip:
            out[op.label] = "skipped by the scenario"
        elif op.label not in allow and (why := danger(op)):
            out[op.label] = why
    return out


class RateLimit:
    """At most ``rate`` request starts per second (None: unlimited), shared by every concurrent sender."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


# -- did the scan break a principal? ------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """An unsafe request that got a 2xx: the suspects when a principal breaks."""

    label: str
    sender: str
    victim: str | None  # the foreign tenant whose id the request carried (None: an own request)


def journal(ctx):
    """An exchange check recording every unsafe 2xx of the current phase in ``ctx.journal``."""
    async def record(ex, obs) -> None:
        if obs.ok and not obs.probe.operation.safe and obs.phase != "seed":
            ctx.journal.append(Entry(obs.probe.operation.label, obs.principal.name,
                                     obs.probe.victim if obs.probe.attack != "own" else None))
    return record


async def health(ctx, p) -> str | None:
    """Why ``p`` is broken (cannot log in, or no longer sees one of its own objects), or None."""
    import httpx

    from harness import auth

    client = ctx.target._client({})
    try:
        try:
            await auth.login(ctx.scenario, client, p)
        except (HarnessError, httpx.HTTPError) as exc:
            return f"{p.name} can no longer log in ({' '.join(str(exc).split())[:160]})"
        checked = set()
        for kind, key, params in ctx.seeded.get(p.name, ()):
            if kind in checked or _gone(ctx, kind, key, params):
                continue
            op, path = _reader(ctx, kind, key, params)
            if op is None:
                continue
            checked.add(kind)
            try:
                response = await client.get(path)
            except httpx.HTTPError as exc:
                return f"{p.name} cannot read its {kind} {key}: {type(exc).__name__}"
            if response.status_code >= 300:
                return f"{p.name} no longer sees its {kind} {key} (GET {path} answered {response.status_code})"
            if not op.path.endswith("}") and str(key) not in response.text:
                return f"{p.name} no longer sees its {kind} {key} in GET {path}"
        return None
    finally:
        await client.aclose()


def _gone(ctx, kind: str, key, params: dict) -> bool:
    """Deleted, by the scan's own requests, or with a parent it was created under (a cascade)."""
    from harness.phases.seed import kind_of

    obj = ctx.ids.get(kind, key)
    if obj is None or obj.gone:
        return True
    for name, value in params.items():
        parent = ctx.ids.get(kind_of(ctx, name, ""), value)
        if parent is not None and parent.gone:
            return True
    return False


def _reader(ctx, kind: str, key, params: dict):
    """A GET that shows one object of ``kind``: its detail (``/notes/{id}``), else its collection."""
    from harness.phases.seed import kind_of

    for op in ctx.operations:
        if op.method != "GET" or not op.path_params or not op.path.endswith("}"):
            continue
        last = op.innermost
        if kind_of(ctx, last, op.path) == kind and set(op.path_params) - {last} <= set(params):
            return op, _fill(op.path, {**params, last: key})
    for op in ctx.operations:
        if op.method == "GET" and _collection(op.path) == kind and set(op.path_params) <= set(params):
            return op, _fill(op.path, params)
    return None, None


def _collection(path: str) -> str | None:
    match = re.search(r"/([A-Za-z][\w-]*)/?$", path)
    return match.group(1).replace("-", "_") if match else None


def _fill(path: str, params: dict) -> str:
    from urllib.parse import quote

    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


async def recover(ctx, phase: str) -> None:
    """After ``phase``: every principal healthy, else name the operation that broke it, exclude it,
    re-seed the broken principals and go on (recorded in the run's skipped list)."""
    suspects, ctx.journal = list(ctx.journal), []
    broken = {p.name: why for p in ctx.principals if (why := await health(ctx, p))}
    if not broken:
        return
    by_name = {p.name: p for p in ctx.principals}
    for name, why in broken.items():
        p = by_name[name]
        candidates = []
        for e in suspects:
            if ((e.sender == name and e.victim is None) or e.victim == p.tenant) and e.label not in candidates \
                    and e.label not in ctx.excluded:
                candidates.append(e.label)
        await reseed(ctx, [p])
        culprit = None
        for label in candidates:
            if await _breaks(ctx, label, p, suspects):
                culprit = label
                break
        if culprit:
            ctx.excluded[culprit] = f"broke a principal in phase {phase}: {why}"
            ctx.operations[:] = [op for op in ctx.operations if op.label != culprit]
            listed = getattr(ctx.exchange.coverage, "operations", None)
            if isinstance(listed, list) and culprit in listed:  # excluded, not a coverage gap
                listed.remove(culprit)
            ctx.skipped.append(f"{culprit}: excluded after phase {phase}: {why}; {name} re-seeded, scan continued")
            await reseed(ctx, [p])
        else:
            ctx.skipped.append(f"after phase {phase}: {why}; no single operation reproduced it "
                               f"({', '.join(candidates) or 'no unsafe 2xx touched it'}); {name} re-seeded")
        ctx.log(ctx.skipped[-1])


async def _breaks(ctx, label: str, p, suspects) -> bool:
    """Replay ``label`` the way the phase sent it towards ``p``, then ask whether ``p`` is still healthy."""
    import random

    op = next((o for o in ctx.operations if o.label == label), None)
    if op is None:
        return False
    builder = ctx.builder(random.Random(ctx.opt.seed))
    template = ctx.templates[label][0]
    by_name = {q.name: q for q in ctx.principals}
    for e in suspects:
        if e.label != label or not ((e.sender == p.name and e.victim is None) or e.victim == p.tenant):
            continue
        sender = by_name[e.sender]
        probes = [builder.own(op, template, sender)] if e.victim is None else \
            builder.foreign_ids(op, template, sender, e.victim)
        for probe in probes:
            await ctx.exchange.send(ctx.target.clients[sender.name], sender, probe, "recover", record=False)
        break
    return await health(ctx, p) is not None


async def reseed(ctx, principals) -> None:
    """New accounts (signed-up principals) and new objects for ``principals``."""
    from harness.phases import seed

    fresh = [p for p in principals if "run" in p.credentials]
    for p in fresh:
        seed.abandon(ctx, p)
        seed.renew(p)
        ctx.seeded.pop(p.name, None)
    await seed.accounts(ctx, ctx.target, fresh)
    for p in principals:
        await ctx.target.login(p)
    if not ctx.world.tables and getattr(ctx.scenario, "api_seed", 0):
        await seed.seed_world(ctx, principals)


# -- --plan: what a scan would send, without sending it -------------------------------------------------------
def plan(scenario, opt) -> str:
    """What a scan of ``scenario`` with ``opt`` would send: target, principals, operations (writes
    marked, exclusions with their reason), objects seeded. Only the OpenAPI document is fetched."""
    return asyncio.run(_plan(scenario, opt))


async def _plan(scenario, opt) -> str:
    from harness import live
    from harness.context import RunContext
    from harness.fuzz import operations as ops_mod
    from harness.phases import seed

    if not opt.base_url and getattr(scenario, "base_url", None):
        opt.base_url = scenario.base_url
    if not opt.base_url:
        raise HarnessError("--plan describes a live scan: pass --base-url URL (or set [target] base_url)")
    policy = live.policy(scenario, opt)
    ctx = RunContext.prepare(scenario, opt)
    ctx.policy = policy
    target = live.target(scenario, opt)
    try:
        spec = await target.spec()
    finally:
        await target.close()
    operations = live.exclude(ctx, ops_mod.load_operations(spec, scenario.path_prefixes, scenario.skip_operations))
    ctx.operations = operations
    lines = [f"plan for {scenario.name}: nothing below has been sent (only the OpenAPI document was read)",
             f"target: {target.api_base} ({policy.describe()})",
             f"limits: {opt.concurrency or getattr(scenario, 'concurrency', None) or live.DEFAULT_CONCURRENCY} "
             f"requests in flight, {opt.rate or getattr(scenario, 'rate_limit', None) or ('unpaced' if policy.loopback else live.REMOTE_RATE)}"
             f" requests/s, {live.timeout(scenario, opt):g}s timeout",
             f"principals ({len(ctx.principals)}):"]
    signup = getattr(scenario, "signup", None)
    for p in ctx.principals:
        how = f"signed up fresh via {signup.operation}" if signup and "run" in p.credentials else "existing account"
        lines.append(f"  {p.name} (role {p.role}, tenant {p.tenant}): {how}")
    if not ctx.world.tables and getattr(scenario, "api_seed", 0):
        creates = seed.create_operations(ctx) if policy.writes else []
        lines.append(f"seed: {scenario.api_seed} objects per principal of each of: "
                     + (", ".join(f"{kind} ({op.label})" for op, kind in creates) or "none (no writes allowed)"))
    writes = [op for op in operations if not op.safe]
    lines.append(f"operations sent ({len(operations)}, {len(writes)} of them writes), each as every principal:")
    lines += [f"  {op.label}{'   [write]' if not op.safe else ''}" for op in operations]
    lines.append(f"never sent ({len(ctx.excluded)}):")
    lines += [f"  {label}: {why}" for label, why in ctx.excluded.items()]
    return "\n".join(lines)
