"""SQL for reaching the indexes keyed by a hash of a text id (migration 0012).

`blocks` and `movements` index `hashtextextended(id, 0)` in place of a batch or account id: a
`bigint` is compared at a fraction of a text's cost on every B-tree insert. A query uses such
an index only if it compares that same expression, so it is written here once; and since two
ids may share a hash, the id itself is always compared as well.
"""

from __future__ import annotations


def hashed(expression: str) -> str:
    """The index key of a text id (the expression as migration 0012 declares it)."""
    return f"hashtextextended({expression}, 0)"


def same_id(column: str, value: str) -> str:
    """`column = value`, through the index on `hashed(column)`."""
    return f"{hashed(column)} = {hashed(value)} AND {column} = {value}"
