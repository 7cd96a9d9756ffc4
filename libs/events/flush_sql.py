"""SQL of a transaction's flush: the event INSERTs, deferred tables, and one statement out of
many writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from libs.events.records import _EVENT_COLUMNS

_EVENT_TYPES = (
    "bigint", "uuid", "text", "int", "text", "timestamptz", "text", "text", "text", "text",
    "text", "text", "json",
)  # fmt: skip


def rows_from(types: Sequence[str]) -> str:
    """Rows from one parameter per column (see `array_literals`), zipped by position: an array
    literal per column, or for `json` columns one JSON array of the values."""
    return (
        "ROWS FROM ("
        + ", ".join(
            f"json_array_elements(${i}::json)" if t == "json" else f"unnest(${i}::text::{t}[])"
            for i, t in enumerate(types, 1)
        )
        + ")"
    )


INSERT_EVENTS_SQL = f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT * FROM {rows_from(_EVENT_TYPES)}"
# An event row: `time` as its RFC 3339 text, `data` as JSON-ready Python values (see
# `array_literals`; one event's data is dumped alone).
FLUSH_ONE_SQL = f"""
WITH ev AS (
    INSERT INTO events ({_EVENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6::text::timestamptz, $7, $8, $9, $10, $11, $12, $13)
    RETURNING 1
)
SELECT pg_notify($14, $15::text) FROM ev
"""
FLUSH_MANY_SQL = f"""
WITH ev AS ({INSERT_EVENTS_SQL} RETURNING 1)
SELECT pg_notify($14, $15::text) FROM ev LIMIT 1
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
    insert_sql: str = field(init=False)
    delete_keys_sql: str = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, _ in self.columns)
        types = tuple(kind for _, kind in self.columns)
        insert = f"INSERT INTO {self.name} ({', '.join(names)}) SELECT * FROM {rows_from(types)}"
        by_name = dict(self.columns)
        delete = ""
        if self.key:
            index = ", ".join(self.key_index or self.key)
            updated = [name for name in names if name not in self.key]
            insert += f" ON CONFLICT ({index}) DO UPDATE SET " + ", ".join(
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
        object.__setattr__(self, "insert_sql", insert)
        object.__setattr__(self, "delete_keys_sql", delete)


def events_arguments(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    return array_literals(rows, _EVENT_TYPES)


def array_literals(rows: Sequence[tuple[Any, ...]], types: Sequence[str]) -> list[str]:
    """Rows → one text parameter per column, for `rows_from`: a PostgreSQL array literal, or for
    a `json` column (whose values are JSON-ready Python values, never None) one JSON array.

    Why text: asyncpg's binary array encoder checks every element against three abstract
    base classes (~0.5 µs per value; a 10,000-transfer bulk writes ~400,000 values). Joining
    and escaping whole columns at once costs a tenth of that here; PostgreSQL parses the
    literal on its own core. JSON columns are dumped whole by orjson: escaping each document
    into an array literal cost ten times as much (and PostgreSQL had to unescape it)."""
    return [
        _json_array(column) if kind == "json" else _array_literal(column, kind in _NUMERIC)
        for column, kind in zip(zip(*rows, strict=True), types, strict=True)
    ]


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
    parts = parts + [
        (table.insert_sql, array_literals(r, table.types)) for table, r in deferred.items()
    ]
    if not parts and not rows:
        return None
    head = [channel, str(rows[-1][0])] if rows else []
    if not parts:
        if len(rows) == 1:
            *fields, data = rows[0]
            return FLUSH_ONE_SQL, [*fields, orjson.dumps(data).decode(), *head]
        return FLUSH_MANY_SQL, [*events_arguments(rows), *head]
    if rows:
        parts.append((INSERT_EVENTS_SQL, events_arguments(rows)))
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
