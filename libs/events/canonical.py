"""RFC 8785 (JCS) canonical JSON.

`rfc8785` (Trail of Bits) is the reference implementation. It is pure Python and costs ~80 µs
for a typical envelope, which would make hashing the bottleneck of the event store. For the
JSON subset our envelopes use — object keys in ASCII, no floats, integers within ±(2^53 − 1) —
orjson with sorted keys produces the same bytes (proven by a property test against `rfc8785`
in tests/unit/test_canonical.py). Anything outside that subset takes the reference path.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

# JCS serialises numbers as IEEE-754 doubles; integers beyond this bound lose precision there.
_MAX_SAFE_INT = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value."""
    if _in_fast_subset(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return rfc8785.dumps(value)


def canonical_envelope(body: dict[str, Any], data: Any) -> bytes:
    """Canonical bytes of an envelope whose own fields are ASCII-keyed strings, safe ints and
    nulls by construction (see `libs.events.store`): only its `data` needs the subset check."""
    if _in_fast_subset(data):
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return rfc8785.dumps(body)


def _in_fast_subset(value: Any) -> bool:
    # Iterative walk: envelopes are small and recursion costs more than a list stack here.
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
            continue
        if kind is list:
            stack.extend(item)
            continue
        return False
    return True
