"""The Postgres event store against a real PostgreSQL 18."""

from __future__ import annotations

import asyncio
import gc

import asyncpg
import pytest

from libs.events import ANY_VERSION, ChainVerifier, CommandWriter, ConcurrencyConflict, EventStore
from libs.events.batch import STATS, QueuedCommand, execute_batch
from libs.events.records import EventContext
from libs.events.store import EventTransaction
from libs.events.writer import WriterStopped
from tests.integration.events import Counted


async def test_append_then_read_by_stream_and_position(store: EventStore) -> None:
    await store.append("thing/a", 0, [Counted(n=1), Counted(n=2)])
    await store.append("thing/b", 0, [Counted(n=3, note="稻田")])
    await store.append("thing/a", 2, [Counted(n=4)])

    stream = await store.read_stream("thing/a")
    assert [(e.streamversion, e.data["n"]) for e in stream] == [(1, 1), (2, 2), (3, 4)]
    log = await store.read_after(0)
    assert [e.sequence for e in log] == [1, 2, 3, 4]
    assert log[2].type == "tanhui.test.Counted.v1" and log[2].data["note"] == "稻田"
    verifier = ChainVerifier()
    for envelope in log:
        verifier.check(envelope)
    assert (await store.head()) == (4, log[-1].hash)


async def test_wrong_expected_version_is_refused_and_changes_nothing(store: EventStore) -> None:
    await store.append("thing/a", 0, [Counted(n=1)])
    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("thing/a", 0, [Counted(n=2)])
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert len(await store.read_after(0)) == 1
    await store.append("thing/a", ANY_VERSION, [Counted(n=3)])
    assert len(await store.read_stream("thing/a")) == 2


async def test_concurrent_appends_to_one_stream_exactly_one_wins_per_version(
    pool: asyncpg.Pool,
) -> None:
    # Separate store instances stand for separate service replicas (no shared cache).
    stores = [EventStore(pool, "test") for _ in range(12)]

    async def attempt(store: EventStore, version: int) -> bool:
        try:
            await store.append("thing/contended", version, [Counted(n=version)])
            return True
        except ConcurrencyConflict:
            return False

    for version in range(3):
        outcomes = await asyncio.gather(*(attempt(s, version) for s in stores))
        assert outcomes.count(True) == 1
    events = await stores[0].read_stream("thing/contended")
    assert [e.streamversion for e in events] == [1, 2, 3]


async def test_a_late_commit_can_never_be_skipped_by_a_tailing_reader(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Transaction A appends first but commits late; B appends meanwhile. A reader tailing by
    position must never see B's event without A's: B's append waits for A's commit."""
    a_appended, release_a = asyncio.Event(), asyncio.Event()
    seen: list[list[int]] = []

    async def slow_writer() -> None:
        async with store.transaction() as tx:
            await tx.append("thing/a", ANY_VERSION, [Counted(n=1)])
            a_appended.set()
            await release_a.wait()

    async def fast_writer() -> None:
        await a_appended.wait()
        await EventStore(pool, "test").append("thing/b", ANY_VERSION, [Counted(n=2)])

    async def reader() -> None:
        position = 0
        while position < 2:
            batch = await store.read_after(position)
            seen.append([e.sequence for e in batch])
            if batch:
                position = batch[-1].sequence
            await asyncio.sleep(0.005)

    tasks = [asyncio.create_task(c()) for c in (slow_writer, fast_writer, reader)]
    await a_appended.wait()
    await asyncio.sleep(0.3)  # B is blocked now; nothing may be visible to the reader
    assert not any(seen_batch for seen_batch in seen)
    assert not tasks[1].done(), "B must wait for A's commit"
    release_a.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    delivered = [s for batch in seen for s in batch]
    assert delivered == [1, 2]
    log = await store.read_after(0)
    assert [(e.sequence, e.subject) for e in log] == [(1, "thing/a"), (2, "thing/b")]


async def test_rolled_back_appends_leave_no_gap(store: EventStore) -> None:
    await store.append("thing/a", 0, [Counted(n=1)])
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.append("thing/a", 1, [Counted(n=2)])
            raise RuntimeError("the command failed after appending")
    await store.append("thing/b", 0, [Counted(n=3)])
    assert [e.sequence for e in await store.read_after(0)] == [1, 2]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET actor = 'mallory'", "DELETE FROM events", "TRUNCATE events"],
)
async def test_the_database_rejects_changes_to_the_log(
    store: EventStore, pool: asyncpg.Pool, statement: str
) -> None:
    await store.append("thing/a", 0, [Counted(n=1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)
    assert len(await store.read_after(0)) == 1


async def test_writer_batches_commands_and_isolates_failures(store: EventStore) -> None:
    writer = CommandWriter(store)
    await writer.start()
    try:

        def command(stream: str, version: int):  # type: ignore[no-untyped-def]
            async def run(tx: EventTransaction) -> int:
                await tx.execute("CREATE TABLE IF NOT EXISTS effects (stream text)")
                await tx.execute("INSERT INTO effects VALUES ($1)", stream)
                recorded = await tx.append(stream, version, [Counted(n=version)])
                return recorded[0].sequence

            return run

        results = await asyncio.gather(
            *(writer.submit(command(f"thing/{i % 5}", 0)) for i in range(40)),
            return_exceptions=True,
        )
    finally:
        await writer.stop()
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 5 and len(losers) == 35
    assert sorted(winners) == [1, 2, 3, 4, 5]
    assert writer.batches < 40, "concurrent commands must share transactions"
    # Failed commands left no projection rows behind (their savepoints rolled back).
    assert await store.pool.fetchval("SELECT count(*) FROM effects") == 5


async def test_stopping_the_writer_during_a_commit_does_not_hang(store: EventStore) -> None:
    """A COMMIT interrupted by `stop()` makes asyncpg refuse the rollback (InterfaceError,
    replacing the cancellation); the writer must stop all the same (it once looped on, and
    the service's shutdown waited for ever)."""
    await store.pool.execute(
        """
        CREATE TABLE slow_commits (n int);
        CREATE FUNCTION sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON slow_commits
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sleep_at_commit();
        """
    )
    writer = CommandWriter(store)
    await writer.start()

    async def slow(tx: EventTransaction) -> None:
        await tx.execute("INSERT INTO slow_commits VALUES (1)")
        await tx.append("slow/1", 0, [Counted(n=1)])

    pending = writer.submit(slow)
    await asyncio.sleep(0.5)  # the command has run; its COMMIT is in the deferred trigger
    await asyncio.wait_for(writer.stop(), timeout=10)
    with pytest.raises(WriterStopped):  # shutdown, not a failure of the command
        await pending


async def test_stopping_mid_statement_answers_every_caller_and_loses_no_outcome(
    store: EventStore,
) -> None:
    """`stop()` while a batch is inside a statement: a waiting caller gets WriterStopped (it
    once waited for ever — the cancelled batch resolved nobody), and the outcome of a caller
    that left meanwhile (`execute` shields the command) is not logged as never retrieved."""
    reported: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    writer = CommandWriter(store)
    await writer.start()

    async def slow(tx: EventTransaction) -> None:
        await tx.execute("SELECT pg_sleep(5)")

    caller = asyncio.create_task(writer.execute(slow))
    waiting = writer.submit(slow)
    await asyncio.sleep(0.3)  # the command is inside its statement
    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    await asyncio.wait_for(writer.stop(), timeout=10)
    with pytest.raises(WriterStopped):
        await asyncio.wait_for(waiting, timeout=1)
    del caller
    gc.collect()
    loop.set_exception_handler(None)
    assert reported == []


async def test_a_batch_aborted_by_a_deadlock_runs_again(store: EventStore) -> None:
    """Two writers locking the same rows in opposite orders (replicas do): PostgreSQL aborts
    one of them; the writer runs its batch again instead of failing the command — on the
    pessimistic path too, where a command's errors are otherwise its result."""
    await store.pool.execute("CREATE TABLE IF NOT EXISTS lockables (id int PRIMARY KEY)")
    await store.pool.execute("INSERT INTO lockables VALUES (1), (2) ON CONFLICT DO NOTHING")
    first_locked = asyncio.Event()
    other_done = asyncio.Event()
    attempts = 0

    async def lock_one_then_two(tx: EventTransaction) -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:  # the optimistic attempt re-runs on any error: go pessimistic
            raise RuntimeError("not this time")
        if attempts == 2:
            await tx.execute("SET LOCAL deadlock_timeout = '100ms'")  # this side is the victim
            await tx.execute("SELECT id FROM lockables WHERE id = 1 FOR UPDATE")
            first_locked.set()
        else:
            await other_done.wait()
        await tx.execute("SELECT id FROM lockables WHERE id = 2 FOR UPDATE")
        (recorded,) = await tx.append("lockables/1", ANY_VERSION, [Counted(n=attempts)])
        return recorded.sequence

    writer = CommandWriter(store)
    await writer.start()
    try:
        async with store.pool.acquire() as other, other.transaction():
            await other.execute("SET LOCAL deadlock_timeout = '10s'")
            await other.execute("SELECT id FROM lockables WHERE id = 2 FOR UPDATE")
            command = writer.submit(lock_one_then_two)
            await first_locked.wait()
            # Waits for row 1 until the writer's side is aborted, then holds both.
            await other.execute("SELECT id FROM lockables WHERE id = 1 FOR UPDATE")
        other_done.set()
        sequence = await asyncio.wait_for(command, timeout=30)
    finally:
        await writer.stop()
    assert attempts == 3
    assert sequence == await store.pool.fetchval("SELECT max(sequence) FROM events")


async def test_a_pessimistic_transaction_reads_the_state_of_the_head_it_builds_on(
    store: EventStore,
) -> None:
    """Two replicas read-modify-write one row without row locks (as the registry reads merge
    partners). The log lock comes before the first read, so the second replica waits for the
    first one's commit and reads its result: no update is lost. With the lock taken only at
    the first append, the second replica committed between the first one's read and its
    append, and the first one then overwrote it."""
    await store.pool.execute("CREATE TABLE IF NOT EXISTS tally (id int PRIMARY KEY, n int)")
    await store.pool.execute("INSERT INTO tally VALUES (1, 0) ON CONFLICT DO NOTHING")
    replica = EventStore(store.pool, "test")
    first_read = asyncio.Event()

    async def increment(on: EventStore, after_read: asyncio.Event | None) -> None:
        async with on.transaction() as tx:
            n = await tx.fetchval("SELECT n FROM tally WHERE id = 1")
            if after_read is not None:
                after_read.set()
                await asyncio.sleep(0.3)  # the other replica's chance to commit in between
            await tx.execute("UPDATE tally SET n = $1 WHERE id = 1", n + 1)
            await tx.append("tally/1", ANY_VERSION, [Counted(n=n + 1)])

    first = asyncio.create_task(increment(store, first_read))
    await first_read.wait()
    await asyncio.wait_for(asyncio.gather(first, increment(replica, None)), timeout=10)
    assert await store.pool.fetchval("SELECT n FROM tally WHERE id = 1") == 2
    rows = await store.pool.fetch("SELECT data::jsonb ->> 'n' AS n FROM events ORDER BY sequence")
    assert [row["n"] for row in rows] == ["1", "2"]


async def test_an_optimistic_transaction_without_a_head_reads_at_the_head_it_builds_on(
    store: EventStore,
) -> None:
    """A process that knows no head yet (just started, or it forgot its head after a lost
    race) runs its batch optimistically all the same: it takes the log lock before its first
    read, as a pessimistic one does, so the replica's increment waits and none is lost. With
    the lock taken at its first append, it read 0, the replica committed 1, and it then wrote 1
    on the head it found then."""
    await store.pool.execute("CREATE TABLE IF NOT EXISTS tally (id int PRIMARY KEY, n int)")
    await store.pool.execute("INSERT INTO tally VALUES (1, 0) ON CONFLICT DO NOTHING")
    replica = EventStore(store.pool, "test")
    assert store.cache.head is None

    async def increment_on_replica() -> None:
        async with replica.transaction() as tx:
            n = await tx.fetchval("SELECT n FROM tally WHERE id = 1")
            await tx.execute("UPDATE tally SET n = $1 WHERE id = 1", n + 1)
            await tx.append("tally/1", ANY_VERSION, [Counted(n=n + 1)])

    async with store.pool.acquire() as conn:
        tx = EventTransaction(store, conn, optimistic=True)
        try:
            n = await tx.fetchval("SELECT n FROM tally WHERE id = 1")
            other = asyncio.create_task(increment_on_replica())
            await asyncio.sleep(0.3)  # the replica's chance to commit in between
            await tx.execute("UPDATE tally SET n = $1 WHERE id = 1", n + 1)
            await tx.append("tally/1", ANY_VERSION, [Counted(n=n + 1)])
            await tx.flush()
            await tx.commit()
        finally:
            await tx.rollback()
    await asyncio.wait_for(other, timeout=10)
    assert await store.pool.fetchval("SELECT n FROM tally WHERE id = 1") == 2


class _Remembering:
    """A unit of work that keeps a label of the transaction that committed it."""

    def __init__(self, found: object, label: str) -> None:
        self.found, self.label = found, label

    def flush(self, tx: EventTransaction) -> None:
        pass

    def kept(self) -> object | None:
        return self.label


async def test_kept_state_is_used_only_on_the_head_it_was_kept_at(pool: asyncpg.Pool) -> None:
    """A unit of work's state kept at a commit reaches the process's next optimistic
    transaction, which then builds on that head: if another writer has appended since, the
    attempt collides and the pessimistic re-run starts without it. A transaction that does not
    commit keeps nothing."""
    store, replica = EventStore(pool, "test"), EventStore(pool, "test")
    seen: list[object] = []

    async def command(tx: EventTransaction, label: str, fail: bool = False) -> None:
        work = tx.work("w", lambda: _Remembering(tx.take_kept("w"), label))
        seen.append(work.found)
        await tx.append(f"thing/{label}", 0, [Counted(n=1)])
        if fail:
            raise ConcurrencyConflict(f"thing/{label}", 0, 1)

    async def run(label: str, fail: bool = False) -> list[tuple[bool, object]]:
        async with pool.acquire() as conn:
            batch = [QueuedCommand(lambda tx: command(tx, label, fail), EventContext())]
            return await execute_batch(store, conn, batch)

    await run("one")
    assert seen == [None] and store.kept_at("w") == await store.head()
    await run("two")
    assert seen[-1] == "one" and store.kept_used == 1
    await replica.append("thing/other", 0, [Counted(n=2)])  # the kept state is stale now
    reruns = STATS["pessimistic_reruns"]
    await run("three")
    assert seen[-2:] == ["two", None]  # taken by the optimistic attempt, not by the re-run
    assert STATS["pessimistic_reruns"] == reruns + 1
    assert store.kept_at("w") == await store.head()
    head = await store.head()
    assert [ok for ok, _ in await run("four", fail=True)] == [False]
    assert seen[-2:] == ["three", None] and store.kept_at("w") is None
    assert await store.head() == head  # nothing of the failed command landed
    await run("five")
    assert seen[-1] is None  # nothing was kept: read afresh
    # This process commits without the unit of work: its state is no longer the head's.
    await store.append("thing/plain", 0, [Counted(n=3)])
    reruns = STATS["pessimistic_reruns"]
    await run("six")
    assert seen[-1] is None and STATS["pessimistic_reruns"] == reruns
