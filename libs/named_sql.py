"""Named parameters for asyncpg: queries written with `:name`, sent with `$n`.

asyncpg takes positional parameters only. A query assembled from parts (a CTE here, a filter
there) then depends on which part got `$4`, and reading one part means reading them all. With
`bind`, each part names what it uses (`:holders`, `:wanted`) and the arguments go by name:

    sql, args = bind("SELECT * FROM blocks WHERE account_id = ANY(:accounts::text[])",
                     accounts=["ACC-000001"])
    rows = await conn.fetch(sql, *args)

`::type` casts are left alone (a name follows a single colon only, not after a letter or digit;
a string literal such as `' :x'` would be taken for a parameter: pass such text as a parameter
instead). The compiled form of each
query text is cached: binding costs a dictionary lookup per parameter.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_NAME = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class MissingParameter(KeyError):
    """A query names a parameter the call did not give."""


@functools.cache
def compile_named(query: str) -> tuple[str, tuple[str, ...]]:
    """The query with `$n` in place of each distinct `:name` (first use first), and the names
    in `$n` order."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        position = names.setdefault(match.group(1), len(names) + 1)
        return f"${position}"

    return _NAME.sub(number, query), tuple(names)


def bind(query: str, /, **params: Any) -> tuple[str, list[Any]]:
    """`(sql, args)` for asyncpg; every name in the query must be given (extras are refused
    too: a misspelt name is a bug either way)."""
    sql, names = compile_named(query)
    missing = [n for n in names if n not in params]
    if missing:
        raise MissingParameter(f"the query names {missing}, not given")
    extra = params.keys() - set(names)
    if extra:
        raise MissingParameter(f"given {sorted(extra)}, which the query does not name")
    return sql, [params[n] for n in names]
