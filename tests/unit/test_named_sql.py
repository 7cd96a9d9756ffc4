"""Named parameters (`libs/named_sql.py`): names become `$n` by first use, casts stay."""

from __future__ import annotations

import pytest

from libs.named_sql import MissingParameter, bind


def test_names_become_positions_by_first_use_and_casts_stay() -> None:
    sql, args = bind(
        "SELECT :b::text[], x::int FROM t WHERE a = :a AND c = ANY(:b::text[])", a=1, b=["x"]
    )
    assert sql == "SELECT $1::text[], x::int FROM t WHERE a = $2 AND c = ANY($1::text[])"
    assert args == [["x"], 1]


def test_a_missing_or_unknown_name_is_refused() -> None:
    with pytest.raises(MissingParameter, match="a"):
        bind("SELECT :a", b=1)
    with pytest.raises(MissingParameter, match="'b'"):
        bind("SELECT :a", a=1, b=2)


def test_text_that_only_looks_like_a_name_is_left_alone() -> None:
    sql, args = bind("SELECT 'HH24:MI', x::bigint, y ::text, :n", n=3)
    assert sql == "SELECT 'HH24:MI', x::bigint, y ::text, $1"
    assert args == [3]
