"""Auditing the registry: the state digest, and `verify` (log → state, compared with live).

Both read one REPEATABLE READ snapshot, so a verify running beside live traffic compares the
log and the projections as of the same instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from libs.events.envelope import ChainBreak, ChainVerifier, hash_of_envelope
from libs.events.store import EventStore
from services.registry.domain.replay import LedgerReplay, LedgerViolation, merge_rows, state_digest

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Digest:
    sequence: int
    hash: str
    state_digest: str


@dataclass(frozen=True)
class VerifyReport:
    events: int
    seconds: float
    log_digest: str
    live_digest: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


async def live_digest(conn: asyncpg.Connection) -> Digest:
    """Call inside a REPEATABLE READ transaction."""
    head = await conn.fetchrow("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
    rows = await conn.fetch(
        "SELECT batch_id, start_unit, end_unit, account_id, state FROM blocks ORDER BY batch_id, start_unit"
    )
    return Digest(
        int(head["sequence"]) if head else 0,
        str(head["hash"]) if head else "0" * 64,
        _digest_of_rows(rows),
    )


Row = tuple[int, int, str | None, str]


def _digest_of_rows(rows: list[asyncpg.Record]) -> str:
    def normal_form() -> Iterator[tuple[str, int, int, str | None, str]]:
        batch: str | None = None
        pending: list[Row] = []
        for row in rows:
            if row["batch_id"] != batch:
                if batch is not None:
                    yield from merge_rows(batch, pending)
                batch, pending = row["batch_id"], []
            pending.append((row["start_unit"], row["end_unit"], row["account_id"], row["state"]))
        if batch is not None:
            yield from merge_rows(batch, pending)

    return state_digest(normal_form())


def _check_row(row: asyncpg.Record, chain: ChainVerifier, source: str) -> dict[str, Any]:
    """The hash-chain check of `ChainVerifier.check`, on a stored row without building a pydantic
    envelope (verify reads every event; this is its hot path). Returns the event's data."""
    sequence = row["sequence"]
    if sequence != chain.last_sequence + 1:
        raise ChainBreak(sequence, f"expected sequence {chain.last_sequence + 1}")
    if row["prevhash"] != chain.last_hash:
        raise ChainBreak(sequence, "prevhash does not match the previous hash")
    data = orjson.loads(row["data"])
    body = {
        "specversion": "1.0",
        "id": row["id_text"],
        "source": source,
        "type": row["type"],
        "subject": row["stream"],
        "time": row["time_text"],
        "sequence": sequence,
        "streamversion": row["stream_version"],
        "actor": row["actor"],
        "correlationid": row["correlation_id"],
        "causationid": row["causation_id"],
        "traceparent": row["traceparent"],
        "prevhash": row["prevhash"],
        "data": data,
    }
    # The envelope's own fields come from typed columns (ASCII keys, strings, safe ints): only
    # `data` needs the canonical subset check.
    if hash_of_envelope(body, data_proven_safe=False) != row["hash"]:
        raise ChainBreak(sequence, "hash does not match the envelope's content")
    chain.last_sequence, chain.last_hash = sequence, row["hash"]
    return data  # type: ignore[no-any-return]


async def digest(pool: asyncpg.Pool) -> Digest:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        return await live_digest(conn)


async def verify(
    store: EventStore, progress: Progress | None = None, page: int = 20_000
) -> VerifyReport:
    started = time.perf_counter()
    problems: list[str] = []
    chain, replay = ChainVerifier(), LedgerReplay()
    async with (
        store.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        live = await live_digest(conn)
        after = 0
        while after < live.sequence and not problems:
            rows = await conn.fetch(
                # id and time rendered by PostgreSQL (on the other core) exactly as
                # `format_time` renders them for hashing: RFC 3339 UTC, 6-digit microseconds.
                "SELECT sequence, id::text AS id_text, stream, stream_version, type,"
                " to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                " AS time_text, actor, correlation_id, causation_id, traceparent, prevhash, hash,"
                " data FROM events"
                " WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                after,
                page,
            )
            for row in rows:
                try:
                    data = _check_row(row, chain, store.source)
                    movements = data.get("movements")
                    if movements:
                        replay.apply(row["sequence"], movements)
                except (ChainBreak, LedgerViolation) as exc:
                    problems.append(str(exc))
                    break
            after = rows[-1]["sequence"] if rows else live.sequence
            if progress:
                progress(after, live.sequence)
    if not problems:
        try:
            replay.check_covers()
        except LedgerViolation as exc:
            problems.append(str(exc))
    log_digest = state_digest(replay.merged())
    if not problems and log_digest != live.state_digest:
        problems.append(
            f"state digest from the log {log_digest} differs from the live projections {live.state_digest}"
        )
    return VerifyReport(
        chain.last_sequence, time.perf_counter() - started, log_digest, live.state_digest, problems
    )
