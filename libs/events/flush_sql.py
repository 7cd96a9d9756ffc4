"""SQL of a transaction's flush: the event INSERTs, and one statement out of many writes."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    return "WITH " + ",\n".join(ctes) + "\n" + tail, args
