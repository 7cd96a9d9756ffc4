"""Auditing the registry: the state digest, and `verify` (log → state, compared with live).

Both read one REPEATABLE READ snapshot, so a verify running beside live traffic compares the
log and the projections as of the same instant.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from libs.events.envelope import ChainBreak, ChainVerifier, hash_of_envelope
from libs.events.store import EventStore
from services.registry import replay_store
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
    head, rows = await replay_store.head_and_blocks(conn)
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


def _check_link(row: asyncpg.Record, chain: ChainVerifier) -> None:
    """Gap-free sequences, each event's `prevhash` the stored hash of the one before."""
    sequence = row["sequence"]
    if sequence != chain.last_sequence + 1:
        raise ChainBreak(sequence, f"expected sequence {chain.last_sequence + 1}")
    if row["prevhash"] != chain.last_hash:
        raise ChainBreak(sequence, "prevhash does not match the previous hash")
    chain.last_sequence, chain.last_hash = sequence, row["hash"]


def _check_hash(row: asyncpg.Record, source: str, data: dict[str, Any]) -> None:
    """The stored hash is the hash of the envelope's content (`ChainVerifier.check`'s last
    step), on a stored row without building a pydantic envelope (verify's hot path)."""
    sequence = row["sequence"]
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


# Below this many events, verify hashes in its own process: a second process costs more.
PARALLEL_FROM = 5_000


def _hash_worker(dsn: str, source: str, upto: int, page: int) -> str | None:
    """In a forked process: recompute every hash up to `upto`; the first mismatch, if any.
    Events at or below the head are committed and append-only, so no snapshot is needed."""

    async def run() -> str | None:
        conn = await asyncpg.connect(dsn)
        try:
            after = 0
            while after < upto:
                rows = await replay_store.verify_page(conn, after, upto, page)
                if not rows:
                    return None
                for row in rows:
                    try:
                        _check_hash(row, source, orjson.loads(row["data"]))
                    except ChainBreak as exc:
                        return str(exc)
                after = rows[-1]["sequence"]
            return None
        finally:
            await conn.close()

    return asyncio.run(run())


async def digest(pool: asyncpg.Pool) -> Digest:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        return await live_digest(conn)


async def verify(
    store: EventStore,
    progress: Progress | None = None,
    page: int = 20_000,
    dsn: str | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> VerifyReport:
    """Chain, replay, invariants and digest in one snapshot. With `dsn` and a log of at least
    `parallel_from` events, a second process recomputes the hashes while this one checks the
    links and replays (two cores: the two halves of the work run side by side)."""
    started = time.perf_counter()
    problems: list[str] = []
    chain, replay = ChainVerifier(), LedgerReplay()
    async with (
        store.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        live = await live_digest(conn)
        hashing = None
        if dsn is not None and live.sequence >= parallel_from:
            hashing = _start_hashing(dsn, store.source, live.sequence, page)
        after = 0
        while after < live.sequence and not problems:
            rows = await replay_store.verify_page(conn, after, live.sequence, page)
            for row in rows:
                try:
                    _check_link(row, chain)
                    data = orjson.loads(row["data"])
                    if hashing is None:
                        _check_hash(row, store.source, data)
                    movements = data.get("movements")
                    if movements:
                        replay.apply(row["sequence"], movements)
                except (ChainBreak, LedgerViolation) as exc:
                    problems.append(str(exc))
                    break
            after = rows[-1]["sequence"] if rows else live.sequence
            if progress:
                progress(after, live.sequence)
        if hashing is not None:
            mismatch = await hashing
            if mismatch:
                problems.insert(0, mismatch)
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


def _start_hashing(dsn: str, source: str, upto: int, page: int) -> asyncio.Future[str | None]:
    # fork: the child starts in milliseconds with every module already imported.
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    future = asyncio.get_running_loop().run_in_executor(
        executor, _hash_worker, dsn, source, upto, page
    )
    future.add_done_callback(lambda _: executor.shutdown(wait=False))
    return future
