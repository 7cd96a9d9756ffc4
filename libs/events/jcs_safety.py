"""Prove from a payload class's JSON Schema that its data is in the fast canonical subset.

The subset (see `libs.events.canonical`): strings, booleans, nulls, integers within
±(2^53 − 1), arrays of those, and objects with fixed ASCII keys. A class proven safe once at
registration skips the per-event check; anything the proof cannot see (floats, free-form
dicts, unbounded integers) is checked per event, or canonicalised by the reference.
"""

from __future__ import annotations

from typing import Any

MAX_SAFE_INT = 2**53 - 1


def schema_is_jcs_safe(schema: dict[str, Any]) -> bool:
    return _safe(schema, schema.get("$defs", {}))


def _safe(schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return _safe(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return all(_safe(part, defs) for part in schema[combinator])
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return all(_safe_literal(v) for v in values)
    kind = schema.get("type")
    if kind in ("string", "boolean", "null"):
        return True
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        return (
            low is not None and high is not None and low >= -MAX_SAFE_INT and high <= MAX_SAFE_INT
        )
    if kind == "array":
        return "items" in schema and _safe(schema["items"], defs)
    if kind == "object":
        properties = schema.get("properties")
        return (
            properties is not None
            and schema.get("additionalProperties") is False
            and all(key.isascii() and _safe(sub, defs) for key, sub in properties.items())
        )
    return False


def _safe_literal(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    return isinstance(value, int) and -MAX_SAFE_INT <= value <= MAX_SAFE_INT
