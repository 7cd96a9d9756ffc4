"""SQL of a transaction's flush: the event INSERTs, deferred tables, and one statement out of
many writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from libs.events.records import _EVENT_COLUMNS

INSERT_EVENTS_SQL = f"""
INSERT INTO events ({_EVENT_COLUMNS})
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                     $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::json[])
"""
FLUSH_ONE_SQL = f"""
WITH ev AS (
    INSERT INTO events ({_EVENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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
    column_names: tuple[str, ...] = field(init=False)
    insert_sql: str = field(init=False)
    delete_keys_sql: str = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, _ in self.columns)
        arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(self.columns, 1))
        insert = f"INSERT INTO {self.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
        types = dict(self.columns)
        delete = ""
        if self.key:
            updated = [name for name in names if name not in self.key]
            insert += f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET " + ", ".join(
                f"{name} = excluded.{name}" for name in updated
            )
            keys = ", ".join(f"${i}::{types[name]}[]" for i, name in enumerate(self.key, 1))
            delete = (
                f"DELETE FROM {self.name} WHERE ({', '.join(self.key)}) IN"
                f" (SELECT * FROM unnest({keys}))"
            )
        object.__setattr__(self, "column_names", names)
        object.__setattr__(self, "insert_sql", insert)
        object.__setattr__(self, "delete_keys_sql", delete)


def columns_of(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows → one list per column (the `unnest` parameters)."""
    return [list(column) for column in zip(*rows, strict=True)]


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
