"""Values a principal writes are its own: a short suffix per principal and request on generated strings.

A generated body is sent by every principal (generation is the expensive part), so a column unique
across the whole database (a contact's e-mail, a slug) gives every principal after the first a 409 and
the operation is never covered for them. Each string the generator made for an unsafe request's body
gets a suffix naming the principal and the request (``ann`` → ``ann-k3fb``; ``a@b.io`` →
``a.k3fb@b.io``: in an e-mail address it goes into the local part), wherever the schema allows it: not
for an enum, a constant or a format other than e-mail, and only when the result still matches the
property's ``pattern`` and ``maxLength`` (the suffix is tried in lower case, upper case and digits).
Values the harness chose itself (ids, a scenario's values, a victim's values) are never touched.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if not n:
            return out


def token(principal: str, serial: int) -> str:
    """A short token unique to (principal, serial): 3 characters of the principal, then the serial."""
    tag = int.from_bytes(hashlib.sha1(principal.encode()).digest()[:4], "big") % 36 ** 3
    return base36(tag).rjust(3, "0") + base36(serial)


def body_schema(op) -> dict | None:
    """The JSON schema of ``op``'s first request body (resolved), or None."""
    cached = getattr(op, "_body_schema", False)
    if cached is not False:
        return cached
    schema = None
    try:
        for body in op.st_operation.body:
            schema = body.resolved_schema
            break
    except Exception:
        schema = None
    op._body_schema = schema if isinstance(schema, dict) else None
    return op._body_schema


def _string_schema(schema) -> dict | None:
    """The schema of a text property (``anyOf: [string, null]`` included), else None: a property that
    may also be a number (a decimal sent as text) is not text."""
    if not isinstance(schema, dict):
        return None
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        texts = [found for alt in alternatives if (found := _string_schema(alt)) is not None]
        others = [alt for alt in alternatives if _string_schema(alt) is None
                  and not (isinstance(alt, dict) and alt.get("type") == "null")]
        return texts[0] if texts and not others else None
    types = schema.get("type")
    if types == "string" or (isinstance(types, list) and "string" in types):
        return schema
    return None


def suffixable(schema) -> dict | None:
    """The string schema of a property that may take a suffix: no enum, no constant, no format other
    than e-mail."""
    s = _string_schema(schema)
    if s is None or "enum" in s or "const" in s or s.get("format") not in (None, "email", "idn-email"):
        return None
    return s


@lru_cache(maxsize=512)
def _pattern(pattern: str):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def with_suffix(value: str, schema: dict, tok: str) -> str | None:
    """``value`` made unique with ``tok`` within ``schema``'s constraints, or None if it cannot be."""
    if not isinstance(value, str):
        return None
    pattern = _pattern(schema["pattern"]) if "pattern" in schema else None
    if "pattern" in schema and pattern is None:
        return None
    limit = schema.get("maxLength")
    digits = str(int(tok, 36))
    for suffix in (f"-{tok}", tok, tok.upper(), f"-{tok.upper()}", digits):
        if "@" in value:
            local, _, domain = value.rpartition("@")
            room = None if limit is None else limit - len(domain) - 1 - len(suffix) - 1
            if room is not None and room < 1:
                continue
            base = local if room is None else local[:room]
            candidate = f"{base}.{suffix.lstrip('-')}@{domain}"
        else:
            room = None if limit is None else limit - len(suffix)
            if room is not None and room < 1:
                continue
            candidate = (value if room is None else value[:room]) + suffix
        if pattern is None or pattern.search(candidate):
            return candidate
    return None


def make_unique(body, schema: dict | None, tok: str, keep: frozenset[str] = frozenset()) -> list[str]:
    """Suffix the generated strings of ``body`` in place (names in ``keep`` untouched); returns the
    names of the properties changed (dotted for nested objects)."""
    if not isinstance(body, dict) or not isinstance(schema, dict):
        return []
    changed = []
    props = schema.get("properties") or {}
    for name, value in list(body.items()):
        if name in keep:
            continue
        prop = props.get(name)
        if isinstance(value, dict):
            changed += [f"{name}.{n}" for n in make_unique(value, _object_schema(prop), tok)]
            continue
        s = suffixable(prop)
        if s is None:
            continue
        new = with_suffix(value, s, tok)
        if new is not None:
            body[name] = new
            changed.append(name)
    return changed


def _object_schema(schema) -> dict | None:
    if not isinstance(schema, dict):
        return None
    for alt in schema.get("anyOf") or schema.get("oneOf") or ():
        if isinstance(alt, dict) and "properties" in alt:
            return alt
    return schema if "properties" in schema else None


def unique_fields(schema: dict | None) -> list[str]:
    """The top-level properties of a body schema that take a suffix (where a collision can happen)."""
    props = (schema or {}).get("properties") or {}
    return [n for n, s in props.items() if suffixable(s) is not None]
