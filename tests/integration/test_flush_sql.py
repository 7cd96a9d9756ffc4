"""The flush's array literals survive PostgreSQL's parser unchanged, whatever the text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.events.flush_sql import FOLD_MIN_ROWS, selected_rows

# Any text PostgreSQL can store (no NUL, no lone surrogates), weighted towards the characters
# an array literal gives meaning to.
_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("\"\\{},; \t\nNULnul'$"),
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
    ),
    max_size=12,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), _text),
            _text,
            st.integers(-(2**63), 2**63 - 1),
            st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        ),
        min_size=1,
        max_size=8,
    )
)
async def test_text_and_numbers_round_trip(pool: asyncpg.Pool, rows: list[tuple]) -> None:
    select, args = selected_rows(rows, ("text", "text", "bigint", "int"))
    back = await pool.fetch(select, *args)
    assert [tuple(r) for r in back] == rows


async def test_json_dates_times_and_uuids_round_trip(pool: asyncpg.Pool) -> None:
    moment = datetime(2026, 11, 24, 8, 30, 1, 250000, tzinfo=UTC)
    rows = [
        ({"note": 'a "quoted" \\ value, {braced}', "n": [1, None]}, date(2026, 1, 2), moment,
         "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        ([], None, "2026-11-24T08:30:01.250000Z", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"),
    ]  # fmt: skip
    types = ("json", "date", "timestamptz", "uuid")
    select, args = selected_rows(rows, types)
    back = await pool.fetch(
        f"SELECT a::text, b, c, d::text FROM ({select}) AS u(a, b, c, d)", *args
    )
    assert [(orjson.loads(r[0]), r[1], r[2], r[3]) for r in back] == [
        (rows[0][0], rows[0][1], moment, rows[0][3]),
        (rows[1][0], None, moment, rows[1][3]),  # the time's text is the same instant
    ]


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.dictionaries(_text, _json, max_size=4), st.integers(0, 9)),
        min_size=1,
        max_size=6,
    )
)
async def test_json_documents_stay_whole_and_in_their_rows(
    pool: asyncpg.Pool, rows: list[tuple]
) -> None:
    """A JSON column travels as one JSON array beside the other columns' array literals:
    every document comes back whole, next to the values of its own row."""
    types = ("json", "int")
    select, args = selected_rows(rows, types)
    back = await pool.fetch(f"SELECT a::text, b FROM ({select}) AS u(a, b)", *args)
    assert [(orjson.loads(r[0]), r[1]) for r in back] == rows


async def test_values_that_are_not_plain_text_are_written_as_their_str(
    pool: asyncpg.Pool,
) -> None:
    """Columns of plain values travel as orjson's output; a column holding anything whose JSON
    is not its `str` (an int in a text column is; a date, a bool, an enum are not) takes the
    slower path, as does text JSON would escape differently from PostgreSQL."""

    class Colour(str, Enum):  # noqa: UP042 — the kind whose str is not its value
        RED = "red"

    columns: list[list[object]] = [
        ["a", 7, None],
        ["a", date(2026, 11, 24)],
        ["a", True],
        ["a", Colour.RED],
        ["line\nbreak", "tab\tand\\backslash", 'quote"d'],
    ]
    for column in columns:
        select, args = selected_rows([(value,) for value in column], ("text",))
        back = [row[0] for row in await pool.fetch(select, *args)]
        assert back == [None if value is None else str(value) for value in column]


def test_a_json_column_refuses_none() -> None:
    with pytest.raises(ValueError, match="JSON documents"):
        selected_rows([(None,)], ("json",))


def test_text_with_nul_is_refused_before_it_reaches_the_database() -> None:
    with pytest.raises(ValueError, match="NUL"):
        selected_rows([("a\x00b",)], ("text",))
    with pytest.raises(ValueError, match="NUL"):
        selected_rows([("a\x00b",), (None,)], ("text",))


class _Colour(str, Enum):  # noqa: UP042 — equal to its value, written as its name
    RED = "red"


async def test_a_large_chunk_sends_a_column_of_one_text_once(pool: asyncpg.Pool) -> None:
    """From FOLD_MIN_ROWS rows, a column holding one text (or only None) in every row goes as
    one parameter; the rows read back are the rows, folded or not."""
    moment = "2026-11-24T08:30:01.250000Z"
    rows = [
        (i, moment, None, "ACC-1" if i else "ACC-2", "red" if i % 2 else _Colour.RED, f"r{i}")
        for i in range(FOLD_MIN_ROWS)
    ]
    types = ("bigint", "timestamptz", "text", "text", "text", "text")
    select, args = selected_rows(rows, types)
    # The time and the None column are folded; the others vary (or differ in type) per row.
    assert args[1] == moment and args[2] is None
    assert all(isinstance(arg, str) and arg.startswith("{") for arg in args[3:])
    back = await pool.fetch(
        f"SELECT c0, c1, c2, c3, c4, c5 FROM ({select}) AS s(c0, c1, c2, c3, c4, c5)", *args
    )
    expected_time = datetime(2026, 11, 24, 8, 30, 1, 250000, tzinfo=UTC)
    assert [tuple(r) for r in back] == [
        (i, expected_time, None, account, str(colour), name)
        for i, _, _, account, colour, name in rows
    ]
    small, small_args = selected_rows(rows[: FOLD_MIN_ROWS - 1], types)
    assert all(arg is None or arg.startswith("{") for arg in small_args)
    assert "unnest($2::text::timestamptz[])" in small


def test_a_folded_text_with_nul_is_refused() -> None:
    rows = [(i, "a\x00b") for i in range(FOLD_MIN_ROWS)]
    with pytest.raises(ValueError, match="NUL"):
        selected_rows(rows, ("bigint", "text"))
