"""Large transactions against a real PostgreSQL 18: their events go to the server in chunks
while the commands go on (`EventTransaction`'s pipelining, `libs/events/write_chain.py`)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from libs.events import ChainVerifier, CommandWriter, EventStore
from libs.events.envelope import GENESIS_HASH
from libs.events.store import EventTransaction
from tests.integration.events import Counted


async def test_a_failing_command_takes_back_events_already_pipelined_to_the_server(
    store: EventStore,
) -> None:
    """Commands appending more than a pipeline chunk: the failing one's sent chunks are rolled
    back by its savepoint, its neighbours' events stay, and the log is gap-free."""
    writer = CommandWriter(store)
    await writer.start()

    def command(name: str, count: int, fail: bool):  # type: ignore[no-untyped-def]
        async def run(tx: EventTransaction) -> int:
            for i in range(count):
                await tx.append(f"{name}/{i}", 0, [Counted(n=i)])
            if fail:
                raise ValueError(name)
            return count

        return run

    try:
        outcomes = await asyncio.gather(
            writer.submit(command("a", 300, False)),
            writer.submit(command("b", 700, True)),
            writer.submit(command("c", 10, False)),
            return_exceptions=True,
        )
    finally:
        await writer.stop()
    assert outcomes[0] == 300 and isinstance(outcomes[1], ValueError) and outcomes[2] == 10
    log = [e async for page in store.iterate() for e in page]
    assert [e.sequence for e in log] == list(range(1, 311))
    assert {e.subject.split("/")[0] for e in log} == {"a", "c"}
    verifier = ChainVerifier()
    for envelope in log:
        verifier.check(envelope)


async def test_a_large_transaction_is_pipelined_and_chained(store: EventStore) -> None:
    async with store.transaction() as tx:
        for i in range(1500):
            await tx.append(f"bulk/{i}", 0, [Counted(n=i)])
    verifier = ChainVerifier()
    count = 0
    async for page in store.iterate(page=400):
        for envelope in page:
            verifier.check(envelope)
            count += 1
    assert count == 1500 and (await store.head())[0] == 1500


def slow_event_statements(first_fails: bool) -> str:
    """DDL: every INSERT into `events` sleeps 0.1 s (the first also fails, if asked), so that
    a transaction appending on finds the server busy and queues its next chunk behind."""
    failing = "RAISE EXCEPTION 'first chunk refused';" if first_fails else ""
    return f"""
        CREATE TABLE chunks_seen (n int);
        CREATE FUNCTION slow_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_sleep(0.1);
            INSERT INTO chunks_seen VALUES (1);
            IF (SELECT count(*) FROM chunks_seen) = 1 THEN {failing} END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER slow_chunk AFTER INSERT ON events
            FOR EACH STATEMENT EXECUTE FUNCTION slow_chunk();
    """


def count_queued_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    queued: list[int] = []
    queue_behind = EventTransaction._queue_behind

    def counted(self: EventTransaction) -> None:
        queued.append(1)
        queue_behind(self)

    monkeypatch.setattr(EventTransaction, "_queue_behind", counted)
    return queued


async def test_chunks_queued_behind_a_busy_server_are_written_in_order(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.pool.execute(slow_event_statements(first_fails=False))
    queued = count_queued_chunks(monkeypatch)
    async with store.transaction() as tx:
        for i in range(3000):
            await tx.append(f"bulk/{i}", 0, [Counted(n=i)])
        await tx.send_ahead()  # behind the chunk on the wire, if any
    assert len(queued) >= 2, "the server was busy: chunks must have been queued behind it"
    log = [e async for page in store.iterate(page=1000) for e in page]
    assert [e.data["n"] for e in log] == list(range(3000))
    verifier = ChainVerifier()
    for envelope in log:
        verifier.check(envelope)


async def test_a_chunk_queued_behind_a_failing_one_is_never_written(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure of the chunk on the wire reaches the transaction (not a later chunk's
    "transaction is aborted"), and nothing is written."""
    await store.pool.execute(slow_event_statements(first_fails=True))
    queued = count_queued_chunks(monkeypatch)
    with pytest.raises(asyncpg.RaiseError, match="first chunk refused"):
        async with store.transaction() as tx:
            for i in range(1000):
                await tx.append(f"bulk/{i}", 0, [Counted(n=i)])
    assert queued, "the server was busy: a chunk must have been queued behind it"
    assert await store.head() == (0, GENESIS_HASH)
    assert await store.pool.fetchval("SELECT count(*) FROM chunks_seen") == 0
