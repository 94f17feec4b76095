"""The existence oracle: an answer must not tell whether an id or a value exists in another tenant.

No row leaks, no write lands, and yet the status says it: 403 for another tenant's object and 404 for
an id that never existed, or 409 on a create because *another* tenant already uses that code. Two
forms, both sent by the sweep with the principal's own credentials:

- **ids**: the answer to a foreign tenant's id in a path must be indistinguishable from the answer to
  an id that exists nowhere (a fresh UUID, an integer past the largest seen, a slug of the same shape):
  same status, same shape of body (keys and types, never values, so messages may differ);
- **values**: a create or update that answers 409 with a value another tenant holds in that column,
  and 2xx with a fresh value of the same shape, tells that the value exists elsewhere.

Each difference is an ``existence`` finding (below a row leak: no data is shown, but the scan fails).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
import string
import uuid

from harness.fuzz.probes import Probe

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


# -- values that exist nowhere ---------------------------------------------------------------------------
def fresh_like(value: str, rng: random.Random, taken=frozenset()) -> str:
    """A value of the same shape as ``value`` (letters for letters, digits for digits, the rest kept)
    that is not in ``taken``: it passes the same patterns and lengths, and exists nowhere."""
    for _ in range(100):
        out = "".join(rng.choice(string.ascii_uppercase) if c.isupper() else
                      rng.choice(string.ascii_lowercase) if c.islower() else
                      rng.choice(string.digits) if c.isdigit() else c for c in value)
        if out != value and out not in taken:
            return out
    return value + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))


def absent_like(value, known, rng: random.Random):
    """An id of ``value``'s type that no object has: a random UUID, an integer past the largest of
    ``known``, or a string of the same shape."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        largest = max((int(k) for k in known if str(k).isdigit()), default=int(value))
        fresh = largest + 1_000_003
        return fresh if isinstance(value, int) else str(fresh)
    text = str(value)
    if _UUID.match(text):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return fresh_like(text, rng, {str(k) for k in known})


# -- comparing answers -----------------------------------------------------------------------------------
def _shape(value) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_shape(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + (_shape(value[0]) if value else "") + "]"
    return "null" if value is None else type(value).__name__


def shape(response) -> str:
    """The answer's shape: its status, and the keys and types of its body, never the values."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip()
    body = "empty"
    if response.content:
        body = ctype or "bytes"
        if "json" in ctype:
            try:
                body = _shape(response.json())
            except ValueError:
                body = "invalid json"
    return f"{response.status_code} {body}"


def _excerpt(response) -> str:
    return response.text[:120].replace("\n", " ")


# -- the id form -----------------------------------------------------------------------------------------
class AbsentIds:
    """Per sweep: the answer to an id that exists nowhere, per operation, principal and path parameter."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.answers: dict[tuple[str, str, str], object] = {}

    async def compare(self, client, p, probe: Probe, response, shown: bool) -> None:
        """``response`` answered ``probe`` (a foreign id in the path): compare with an absent id's answer.

        ``shown`` says another oracle already reported this request (a row shown, a write accepted):
        the status difference is then that finding's consequence, not a bug of its own."""
        ctx, ex, op = self.ctx, self.ctx.exchange, probe.operation
        names = [n.split(" ", 1)[1] for n in probe.notes if n.startswith("path ")]
        if response is None or shown or not names or names[0] not in probe.path_params:
            return
        name = names[0]
        key = (op.label, p.name, name)
        if key not in self.answers:
            table = ex.ids.table_for(name, op.path)
            ref = ex.ids.ref_for(name, op.path) if hasattr(ex.ids, "ref_for") else None
            known = ex.ids.values(ref) if ref is not None and hasattr(ex.ids, "values") else ()
            rng = random.Random(f"{ctx.opt.seed}:{op.label}:{name}:{table}")
            absent = absent_like(probe.path_params[name], known, rng)
            absent_probe = Probe(op, {**probe.path_params, name: absent}, dict(probe.query), dict(probe.headers),
                                 copy.deepcopy(probe.body), "absent-id", notes=[f"path {name} (exists nowhere)"],
                                 encoding=getattr(probe, "encoding", None))
            self.answers[key] = await ex.send(client, p, absent_probe, "sweep", record=False)
        absent = self.answers[key]
        if absent is None:
            return
        foreign_shape, absent_shape = shape(response), shape(absent)
        if foreign_shape == absent_shape:
            return
        victim = ex.victim_label({probe.victim})
        ex.finding("existence", "existence", "sweep", op.label, p, victim,
                   f"{victim}'s id in path {name} answered {foreign_shape} ({_excerpt(response)!r}); an id that "
                   f"exists nowhere answered {absent_shape} ({_excerpt(absent)!r}): the answer tells which ids "
                   f"exist in other tenants", ex_request(ex, client, probe), response.status_code, f"path:{name}")


def ex_request(ex, client, probe: Probe):
    """The finding's record of ``probe`` as sent (credentials redacted, as the exchange records it)."""
    from harness.findings import REDACTED, SENSITIVE_HEADERS, Request

    sent = {k: REDACTED for k in client.headers if k.lower() in SENSITIVE_HEADERS}
    body = probe.body if probe.operation.has_body else None
    return Request(probe.operation.method, probe.url(), {**sent, **probe.headers}, body)


# -- the value form --------------------------------------------------------------------------------------
def _is_free_text(value) -> bool:
    """A value a unique constraint could hold: text that is not a number, date, UUID or boolean."""
    if not isinstance(value, str) or len(value) < 3 or _NUMBER.match(value) or _UUID.match(value):
        return False
    try:
        dt.date.fromisoformat(value[:10])
        return False
    except ValueError:
        return True


def candidates(world, table: str, column: str, victim: str, visible) -> list[str]:
    """Values of ``column`` that ``victim`` holds and no tenant of ``visible`` does, in world order."""
    tenant_column = world.tenant_columns.get(table)
    rows = world.tables.get(table) or []
    if not tenant_column or not rows or column not in rows[0]:
        return []
    own = {str(r[column]) for r in rows if str(r[tenant_column]) in visible}
    out = []
    for r in rows:
        value = r.get(column)
        if str(r[tenant_column]) == victim and _is_free_text(value) and value not in own and value not in out:
            out.append(value)
    return out


class UniqueValues:
    """Per sweep: which (operation, field) pairs are decided (a principal got 2xx with a fresh value)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.decided: set[tuple[str, str]] = set()

    async def probe(self, client, p, base: Probe, properties: dict, skip=frozenset()) -> None:
        """Send ``base`` (a create or update) with, per text field that is a column of the resource's
        table, a fresh value and then a victim's value; 409 only with the victim's is a finding."""
        ctx, ex, op = self.ctx, self.ctx.exchange, base.operation
        if op.method not in ("POST", "PUT", "PATCH") or not isinstance(base.body, dict):
            return
        table = ex.ids.table_for("ids", op.path)
        victims = ctx.victims(p)
        if not table or not victims:
            return
        victim = victims[0]
        rows = ctx.world.tables.get(table) or []
        columns = set(rows[0]) if rows else set()
        fields = [n for n, v in properties.items()
                  if n in columns and n not in skip and isinstance(v, str) and (op.label, n) not in self.decided]
        taken = {n: {str(r.get(n)) for r in rows} for n in fields}
        rng = random.Random(f"{ctx.opt.seed}:{op.label}:{p.name}")
        for name in fields:
            values = candidates(ctx.world, table, name, victim, p.visible)
            if not values:
                continue
            body = freshened(base.body, rng, taken)  # the base must not clash with what it already made
            fresh = _probe(base, {**body, name: fresh_like(values[0], rng, taken[name])}, None, f"body {name} fresh")
            answer = await ex.send(client, p, fresh, "sweep", record=False)
            if answer is None or not 200 <= answer.status_code < 300:
                continue  # this principal may not write here: another one decides
            self.decided.add((op.label, name))
            body = freshened(base.body, rng, taken)
            foreign = _probe(base, {**body, name: values[0]}, victim, f"body {name} = {ex.victim_label({victim})}'s")
            answer = await ex.send(client, p, foreign, "sweep", record=False)
            if answer is None:
                continue
            if answer.status_code == 409:
                label = ex.victim_label({victim})
                ex.finding("existence", "existence", "sweep", op.label, p, label,
                           f"{name}={values[0]!r} (held by {label}) answered 409 ({_excerpt(answer)!r}); a fresh "
                           f"{name} answered 2xx: uniqueness is checked across tenants, so the answer tells what "
                           f"another tenant holds", ex_request(ex, client, foreign), 409, f"body:{name}")
            elif 200 <= answer.status_code < 300 and hasattr(ex.index, "share"):
                ex.index.share(values[0], p.tenant)  # now held by both: no longer the victim's marker


def freshened(body: dict, rng: random.Random, taken=None) -> dict:
    """``body`` with every free-text value replaced by a fresh one of the same shape: a create sent
    again must not clash with the object its first sending made (a unique name, a unique code)."""
    taken = taken or {}
    return {k: fresh_like(v, rng, taken.get(k, ())) if _is_free_text(v) else copy.deepcopy(v)
            for k, v in body.items()}


def _probe(base: Probe, body: dict, victim, note: str) -> Probe:
    return Probe(base.operation, dict(base.path_params), dict(base.query), dict(base.headers), body,
                 "unique-value", victim, False, [note], encoding=getattr(base, "encoding", None))
