"""The live-target path of a campaign: a running service, reached over HTTP, handled with care.

The campaign calls these at fixed points, and each is a no-op in-process: :func:`policy` before any
request (a remote host must be named), :func:`connect` (the spec, with ``servers`` honoured, then
sign-ups and logins), :func:`exclude` (dangerous operations, and writes the policy forbids),
:func:`configure` (requests in flight, rate limit) and :func:`after_phase` (every principal still
logs in and still sees its own objects, see :func:`harness.safety.recover`).
"""

from __future__ import annotations

from harness import safety
from harness.errors import HarnessError
from harness.target import Target

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT = 10.0
#: Requests per second on a remote host unless the scenario or --rate says otherwise (loopback: unpaced).
REMOTE_RATE = 20.0


def policy(scenario, opt) -> safety.WritePolicy:
    """Where the scan may write; refuses a remote host nobody named, before any request."""
    return safety.check_target(opt.base_url, opt.target_host, opt.allow_writes)


def timeout(scenario, opt) -> float:
    return float(opt.timeout or getattr(scenario, "timeout", None) or DEFAULT_TIMEOUT)


def target(scenario, opt) -> Target:
    return Target(scenario, base_url=opt.base_url, timeout=timeout(scenario, opt))


async def connect(ctx, target: Target) -> dict:
    """The spec (whose ``servers`` sets the API base), then sign-ups (live) and every principal's login."""
    from harness.phases import seed

    try:
        spec = await target.spec()
    except HarnessError:
        if not ctx.principals:
            raise
        for p in ctx.principals:  # a spec behind a login
            await target.login(p)
        spec = await target.spec()
    if ctx.policy is not None:
        await seed.accounts(ctx, target)
    for p in ctx.principals:
        if p.name not in target.clients:
            await target.login(p)
    return spec


def exclude(ctx, operations: list) -> list:
    """Operations that are never sent to this live target (recorded in the run's skipped list)."""
    if ctx.policy is None:
        return operations
    excluded = safety.exclusions(operations, ctx.scenario.allow_operations)
    if not ctx.policy.writes:
        for op in operations:
            if not op.safe:
                excluded.setdefault(op.label, f"unsafe method on {ctx.policy.host} without --allow-writes")
    for label, why in excluded.items():
        ctx.excluded[label] = why
        ctx.skipped.append(f"{label}: not sent ({why})")
    return [op for op in operations if op.label not in ctx.excluded]


def configure(ctx) -> None:
    """Requests in flight and pacing for a live target (in-process stays one request at a time)."""
    if ctx.policy is None:
        return
    sc, opt = ctx.scenario, ctx.opt
    rate = opt.rate or getattr(sc, "rate_limit", None) or (None if ctx.policy.loopback else REMOTE_RATE)
    ctx.exchange.configure(opt.concurrency or getattr(sc, "concurrency", None) or DEFAULT_CONCURRENCY,
                           safety.RateLimit(rate) if rate else None)
    ctx.exchange.checks.append(safety.journal(ctx))


async def after_phase(ctx, name: str) -> None:
    await ctx.exchange.drain()
    if ctx.policy is not None and name not in ("audit", "replay"):
        await safety.recover(ctx, name)
