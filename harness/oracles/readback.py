"""Read-back: what an unsafe request did to another tenant's object, as its owner sees it.

Write isolation reads the database; a live target often gives no database. So before an unsafe attack
on a foreign object (a foreign id in the path), the object's owner reads it (the GET on the same path,
or the owner's list one level up, found by key), and after a 2xx reads it again. The owner's view
changed (or the object is gone after a ``DELETE``) → a ``write-isolation`` finding naming the object,
the fields and the victim; unchanged → the 2xx did nothing the owner can see, an ``object-level``
note, not a leak. A field that changes between two reads after the attack (a view counter, a clock)
is not counted. An attack on an account's credentials (a password, an e-mail) is read back by what
they control: the victim must still log in with its own credentials.

The same reading judges an attack that put a foreign reference in the principal's *own* object (a card
moved to another tenant's board): after the 2xx, the principal reads its object back, and if it now
holds the foreign id, the app stored it (``cross-reference``, like the database oracle of that name).

The reads go through the exchange without oracles (they are the owner's own requests) and are not
counted as coverage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness import auth, safety
from harness.errors import HarnessError
from harness.fuzz.probes import Probe
from harness.fuzz.resources import text
from harness.scenario import Principal

#: Statuses that say the object is gone.
GONE = (404, 410)


@dataclass
class View:
    """The owner's view of one object: the status of the read, and the object (None: not found)."""

    status: int | None
    obj: object = None

    @property
    def present(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.obj is not None


@dataclass
class Snapshot:
    """Everything needed to read the same object again after the attack."""

    owner: Principal
    reader: Probe
    key: tuple[str, str] | None  # (field, value) of the item in a list reader; None: a detail reader
    before: View
    account: bool = False


class ReadBack:
    def __init__(self, ctx):
        self.ctx = ctx
        self._readers: dict[str, object] = {}

    # -- which read shows the object ------------------------------------------------------------------
    def _operations(self):
        return self.ctx.spec_operations or self.ctx.operations

    def reader(self, op):
        """(GET operation, is it a list one level up) that shows what ``op`` writes, or None."""
        if op.label in self._readers:
            return self._readers[op.label]
        gets = {o.path: o for o in self._operations() if o.method == "GET"}
        found = None
        if op.path in gets:
            found = (gets[op.path], False)
        elif op.path.endswith("}"):
            parent = op.path.rsplit("/", 1)[0]
            if parent in gets:
                found = (gets[parent], True)
        self._readers[op.label] = found
        return found

    def owner(self, victim: str) -> Principal | None:
        """A principal at home in the victim tenant (else one that sees it)."""
        ps = self.ctx.principals
        return next((p for p in ps if p.tenant == victim), None) or next((p for p in ps if victim in p.visible), None)

    # -- before and after -----------------------------------------------------------------------------
    async def before(self, p: Principal, probe: Probe) -> Snapshot | None:
        """The owner's view of the foreign object ``probe`` attacks, read before it is sent."""
        if not probe.foreign_in_path or not probe.victim or probe.operation.safe:
            return None
        owner = self.owner(probe.victim)
        if owner is None:
            return None
        account = _is_account(probe.operation)
        found = self.reader(probe.operation)
        if found is None:
            return Snapshot(owner, None, None, View(None), account) if account else None
        op, listed = found
        params = self._owner_params(op, probe)
        key = None
        if listed:
            name = probe.operation.innermost
            ref = self.ctx.ids.ref_for(name, probe.operation.path) if name else None
            if name is None or name not in probe.path_params:
                return None
            key = (ref.column if ref else "id", text(probe.path_params[name]))
        reader = Probe(op, params, {}, {}, None, notes=["read-back"])
        return Snapshot(owner, reader, key, await self._view(owner, reader, key), account)

    def _owner_params(self, op, probe: Probe) -> dict:
        """The reader's path parameters as the owner names the object: the foreign ids the attack
        carried, and the object's own parents (its workspace, its project) for the rest."""
        ids = self.ctx.ids
        params = {n: v for n, v in probe.path_params.items() if n in op.path_params}
        inner = ids.innermost_ref(probe.operation.path)
        obj = None
        if inner is not None and inner[0] in probe.path_params:
            found = ids.find(inner[1].table, inner[1].column, probe.path_params[inner[0]])
            obj = found[0] if found else None
        for name in op.path_params:
            ref = ids.ref_for(name, op.path)
            if obj is not None and name in obj.fields and not (inner and name == inner[0]):
                params[name] = obj.fields[name]
            elif ref is not None and ids.is_tenant_table(ref.table):
                home = ids.first_object(ref, probe.victim)
                if home is not None:
                    params[name] = home.value(ref.column)
        return params

    async def _view(self, owner: Principal, reader: Probe, key) -> View:
        ex, client = self.ctx.exchange, self.ctx.target.clients.get(owner.name)
        if client is None:
            return View(None)
        response = await ex.send(client, owner, reader, "read-back", record=False, checks=[])
        if response is None:
            return View(None)
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if key is None:
            return View(response.status_code, data if 200 <= response.status_code < 300 else None)
        items = data.get("items", data.get("data")) if isinstance(data, dict) else data
        field, value = key
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and text(item.get(field)) == value:
                return View(response.status_code, item)
        return View(response.status_code, None)

    async def effect(self, obs, snap: Snapshot) -> tuple[str, str] | None:
        """("changed" | "unchanged", what changed) after a 2xx to the attack; None: cannot tell."""
        if snap.account:
            if await self._logs_in(snap.owner):
                return ("unchanged", "") if snap.reader is None else await self._compare(snap)
            return "changed", f"{snap.owner.name} can no longer log in with its own credentials"
        if not snap.before.present:
            return None
        return await self._compare(snap)

    async def _compare(self, snap: Snapshot) -> tuple[str, str] | None:
        if not snap.before.present:
            return None
        after = await self._view(snap.owner, snap.reader, snap.key)
        if not after.present:
            if after.status in GONE or (after.status is not None and 200 <= after.status < 300):
                return "changed", f"the object is gone from its owner's view ({snap.reader.url()} → {after.status})"
            return None
        changed = _diff(snap.before.obj, after.obj)
        if changed:
            again = await self._view(snap.owner, snap.reader, snap.key)  # what changes by itself is no write
            steady = _diff(after.obj, again.obj) if again.present else set(changed)
            changed = [f for f in changed if f not in steady]
        if not changed:
            return "unchanged", ""
        before, after_obj = snap.before.obj, after.obj
        shown = ", ".join(f"{f}: {_short(_get(before, f))} → {_short(_get(after_obj, f))}" for f in changed[:3])
        return "changed", f"its owner now reads {shown}" + (f" (+{len(changed) - 3} more)" if len(changed) > 3 else "")

    async def _logs_in(self, principal: Principal) -> bool:
        target = self.ctx.target
        client = target._client({})
        try:
            await auth.login(self.ctx.scenario, client, principal)
            return True
        except (HarnessError, Exception):
            return False
        finally:
            await client.aclose()

    # -- the principal's own object after a foreign reference ------------------------------------------
    async def kept_reference(self, p: Principal, probe: Probe, response) -> tuple[str, str] | None:
        """(field, what happened) when ``p``'s own object took the foreign id ``probe`` put in a body
        field: it holds it when read back (the GET on the same path, after an update; the create's
        answer, after a create), or it has left ``p``'s view altogether (moved to where the foreign
        id points). None when the app did not keep it."""
        fields = [n.split(" ", 1)[1] for n in probe.notes if n.startswith("body ")]
        if not fields or not isinstance(probe.body, dict):
            return None
        found = self.reader(probe.operation) if probe.operation.path.endswith("}") else None
        if found is not None and not found[1]:
            reader = Probe(found[0], {n: v for n, v in probe.path_params.items() if n in found[0].path_params},
                           {}, {}, None, notes=["read-back"])
            view = await self._view(p, reader, None)
            if view.status in GONE:
                return fields[0], (f"{p.name}'s object is gone from its own view ({reader.url()} → {view.status}): "
                                   f"it moved to where the foreign id points")
            stored = view.obj if view.present else None
        elif probe.operation.method == "POST":
            try:
                stored = response.json()
            except ValueError:
                stored = None
        else:
            return None
        if not isinstance(stored, dict):
            return None
        for name in fields:
            sent, kept = probe.body.get(name), stored.get(name)
            if sent is not None and kept is not None and _same_reference(sent, kept):
                return name, f"{p.name}'s object now holds it"
        return None


def _is_account(op) -> bool:
    why = safety.danger(op) or ""
    return why.startswith(("acts on credentials", "sets ", "changes or deletes the principal's own account"))


def _get(obj, field: str):
    return obj.get(field) if isinstance(obj, dict) else obj


def _diff(before, after) -> list[str]:
    """The top-level fields that differ (the whole value when it is not an object)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [k for k in sorted(set(before) | set(after)) if _canon(before.get(k)) != _canon(after.get(k))]
    return [] if _canon(before) == _canon(after) else ["(body)"]


def _canon(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value) -> str:
    shown = _canon(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _same_reference(sent, kept) -> bool:
    if isinstance(sent, list):
        kept_values = {text(v) for v in kept} if isinstance(kept, list) else {text(kept)}
        return any(text(v) in kept_values for v in sent[1:] or sent)
    return text(sent) == text(kept)
