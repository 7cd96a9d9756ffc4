"""SQL of a transaction's flush: the event INSERTs, deferred tables, and one statement out of
many writes."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from libs.events.records import EVENT_COLUMNS

_EVENT_TYPES = (
    "bigint", "uuid", "text", "int", "text", "timestamptz", "text", "text", "text", "text",
    "text", "text", "json",
)  # fmt: skip


def _unnest(parameter: int, kind: str) -> str:
    if kind == "json":
        return f"json_array_elements(${parameter}::json)"
    return f"unnest(${parameter}::text::{kind}[])"


# Rows of at least this many go with their constant columns folded (`selected_rows`); smaller
# flushes (the single commands') keep one statement text per table.
FOLD_MIN_ROWS = 64


def selected_rows(rows: Sequence[tuple[Any, ...]], types: Sequence[str]) -> tuple[str, list[Any]]:
    """`SELECT <columns> FROM ROWS FROM (...)` for `rows`, with its arguments (parameters from
    $1). In a large chunk, a text column with one value in every row (the time, actor and trace
    of a bulk request's events; the states of its blocks and movements) goes as that value
    once: PostgreSQL parsed it 10,000 times per request otherwise (2–4 ms per column of 10,000
    events, measured). The first column always goes as an array: it carries the row count."""
    columns = list(zip(*rows, strict=True))
    folding = len(rows) >= FOLD_MIN_ROWS
    constant = tuple(
        folding and index > 0 and kind != "json" and _one_text(column)
        for index, (column, kind) in enumerate(zip(columns, types, strict=True))
    )
    args = [
        _scalar_text(column[0]) if single else _column_argument(column, kind)
        for column, kind, single in zip(columns, types, constant, strict=True)
    ]
    return _select_sql(tuple(types), constant), args


@functools.cache
def _select_sql(types: tuple[str, ...], constant: tuple[bool, ...]) -> str:
    arrays = [i for i, single in enumerate(constant) if not single]
    expressions = [
        f"${i + 1}::text::{kind}" if single else f"r.c{i}"
        for i, (kind, single) in enumerate(zip(types, constant, strict=True))
    ]
    unnested = ", ".join(_unnest(i + 1, types[i]) for i in arrays)
    names = ", ".join(f"c{i}" for i in arrays)
    return f"SELECT {', '.join(expressions)} FROM ROWS FROM ({unnested}) AS r({names})"


def _one_text(column: Sequence[Any]) -> bool:
    """Whether every value is the same text (or None): only these are folded, so that a folded
    value is exactly what each row's array element would have been (`1 == True`, and an old
    `(str, Enum)` member equals its value but is written as its name)."""
    first = column[0]
    if column[-1] != first:  # most columns vary: out before comparing every value
        return False
    if column.count(first) != len(column):  # identical objects: ~1 µs for 512
        return False
    return first is None or set(map(type, column)) == {str}


def _scalar_text(value: Any) -> str | None:
    """A folded column's value as the text its array element would have held."""
    if value is None:
        return None
    text = str(value)
    if _SEPARATOR in text:
        raise ValueError(_NUL_REFUSED)
    return text


INSERT_EVENTS = f"INSERT INTO events ({EVENT_COLUMNS}) "
# An event row: `time` as its RFC 3339 text, `data` as JSON-ready Python values (see
# `selected_rows`; one event's data is dumped alone).
FLUSH_ONE_SQL = f"""
WITH ev AS (
    INSERT INTO events ({EVENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6::text::timestamptz, $7, $8, $9, $10, $11, $12, $13)
    RETURNING 1
)
SELECT pg_notify($14, $15::text) FROM ev
"""
_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per table
class Table:
    """A table that commands write rows to at flush (`EventTransaction.defer_rows`): rows are
    tuples in `columns` order, inserted with `unnest` as one part of the flush's single
    statement. With `key`, a row replaces the stored row with the same key (an upsert).
    COPY was tried for large flushes (a bulk request's chunks): a fifth of the client's CPU
    per value, but two round trips per table, each waiting for a loop busy with the next
    chunk — no faster end to end (bench/README.md)."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, PostgreSQL type)
    key: tuple[str, ...] = ()
    # The expressions of the unique index that enforces `key`, when they are not the key's
    # columns themselves (e.g. a hash of a text column first): the upsert's conflict target.
    key_index: tuple[str, ...] = ()
    types: tuple[str, ...] = field(init=False)
    column_names: tuple[str, ...] = field(init=False)
    delete_keys_sql: str = field(init=False)
    _on_conflict: str = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, _ in self.columns)
        types = tuple(kind for _, kind in self.columns)
        by_name = dict(self.columns)
        delete = on_conflict = ""
        if self.key:
            index = ", ".join(self.key_index or self.key)
            updated = [name for name in names if name not in self.key]
            on_conflict = f" ON CONFLICT ({index}) DO UPDATE SET " + ", ".join(
                f"{name} = excluded.{name}" for name in updated
            )
            keys = ", ".join(f"${i}::{by_name[name]}[]" for i, name in enumerate(self.key, 1))
            # The same expressions on both sides, so that the unique index finds the rows.
            delete = (
                f"DELETE FROM {self.name} WHERE ({index}) IN (SELECT {index}"
                f" FROM unnest({keys}) AS k({', '.join(self.key)}))"
            )
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "column_names", names)
        object.__setattr__(self, "delete_keys_sql", delete)
        object.__setattr__(self, "_on_conflict", on_conflict)

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
        """The statement inserting (or with a key, upserting) `rows`, with its arguments."""
        select, args = selected_rows(rows, self.types)
        head = f"INSERT INTO {self.name} ({', '.join(self.column_names)}) "
        return head + select + self._on_conflict, args


def _column_argument(column: Sequence[Any], kind: str) -> str:
    """A column as one text parameter (`_unnest` zips them by position): a PostgreSQL array
    literal, or for a `json` column (JSON-ready Python values, never None) one JSON array.

    Why text: asyncpg's binary array encoder checks every element against three abstract
    base classes (~0.5 µs per value; a 10,000-transfer bulk writes ~400,000 values). Joining
    and escaping whole columns at once costs a tenth of that here; PostgreSQL parses the
    literal on its own core. JSON columns are dumped whole by orjson: escaping each document
    into an array literal cost ten times as much (and PostgreSQL had to unescape it)."""
    return _json_array(column) if kind == "json" else _array_literal(column, kind in _NUMERIC)


def _json_array(values: Sequence[Any]) -> str:
    if None in values:  # would be stored as JSON null, not SQL NULL
        raise ValueError("a json column's values are JSON documents; None is not one")
    return orjson.dumps(values).decode()


_NUMERIC = frozenset({"bigint", "int", "integer", "smallint"})
# PostgreSQL text cannot hold NUL, so it separates the values while the column is escaped.
_SEPARATOR = "\x00"


# What orjson writes exactly as `str` would inside an array literal: `null` is SQL NULL there.
_PLAIN_TEXT_TYPES = frozenset({str, int, type(None)})
_DUMP_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _array_literal(values: Sequence[Any], numeric: bool) -> str:
    """orjson writes a column of plain values 3-4x faster than `str` and `join`, and its JSON
    array is the array literal but for the brackets — unless a text needed escaping (a
    backslash in the output: JSON's escapes for control characters are not PostgreSQL's), or a
    value is not plain (a date, a bool, an enum, a Decimal: their `str` is not their JSON)."""
    if numeric or set(map(type, values)) <= _PLAIN_TEXT_TYPES:
        try:
            dumped = orjson.dumps(values, option=_DUMP_OPTIONS)
        except TypeError:  # a value orjson leaves to `str` (a Decimal, an int over 64 bits)
            pass
        else:
            if numeric or b"\\" not in dumped:
                return "{" + dumped[1:-1].decode() + "}"
    return _array_literal_by_str(values, numeric)


def _array_literal_by_str(values: Sequence[Any], numeric: bool) -> str:
    if None in values:
        return _array_literal_with_nulls(values, numeric)
    if numeric:
        return "{" + ",".join(map(str, values)) + "}"
    joined = _SEPARATOR.join(map(str, values))
    if joined.count(_SEPARATOR) != len(values) - 1:
        raise ValueError(_NUL_REFUSED)
    return '{"' + _escaped(joined).replace(_SEPARATOR, '","') + '"}'


def _array_literal_with_nulls(values: Sequence[Any], numeric: bool) -> str:
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif numeric:
            items.append(str(value))
        else:
            text = str(value)
            if _SEPARATOR in text:
                raise ValueError(_NUL_REFUSED)
            items.append('"' + _escaped(text) + '"')
    return "{" + ",".join(items) + "}"


_NUL_REFUSED = "a text value contains NUL, which PostgreSQL cannot store"


def _escaped(text: str) -> str:
    """Backslash and double quote escaped, for inside a double-quoted array element."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


Parts = list[tuple[str, list[Any]]]  # statements with their arguments
Deferred = dict[Table, list[tuple[Any, ...]]]  # rows for each table, at flush


def flush_statement(
    parts: Parts, deferred: Deferred, rows: Sequence[tuple[Any, ...]], channel: str
) -> tuple[str, list[Any]] | None:
    """The one statement that writes a flush — data-modifying statements, deferred rows and
    event rows — with its arguments, NOTIFYing `channel` of the last sequence if it inserts
    events (None if there is nothing to write)."""
    parts = parts + [table.insert(r) for table, r in deferred.items()]
    if not parts and not rows:
        return None
    head = [channel, str(rows[-1][0])] if rows else []
    if not parts and len(rows) == 1:
        *fields, data = rows[0]
        return FLUSH_ONE_SQL, [*fields, orjson.dumps(data).decode(), *head]
    if rows:
        select, args = selected_rows(rows, _EVENT_TYPES)
        parts.append((INSERT_EVENTS + select, args))
    sql, args = combined(parts, notify=bool(rows))
    return sql, args + head


def _shifted(offset: int) -> Callable[[re.Match[str]], str]:
    return lambda match: f"${int(match.group(1)) + offset}"


def combined(parts: list[tuple[str, list[Any]]], notify: bool) -> tuple[str, list[Any]]:
    """One statement running every part as a data-modifying CTE (parameters renumbered), then
    NOTIFY (its two parameters last) if events were inserted. All parts see the snapshot from
    before the statement: callers never write a row that another part writes."""
    ctes: list[str] = []
    args: list[Any] = []
    for index, (statement, values) in enumerate(parts):
        renumbered = _PARAMETER.sub(_shifted(len(args)), statement)
        ctes.append(f"w{index} AS ({renumbered})")
        args.extend(values)
    tail = f"SELECT pg_notify(${len(args) + 1}, ${len(args) + 2}::text)" if notify else "SELECT 1"
    if not ctes:
        return tail, args
    return "WITH " + ",\n".join(ctes) + "\n" + tail, args
