"""The chain of writes a transaction sends ahead (pure asyncio: the writes are coroutines)."""

from __future__ import annotations

import asyncio

import pytest

from libs.events.write_chain import Write, WriteChain


def recording(log: list[str], name: str, delay: float = 0.0, fails: bool = False) -> Write:
    async def write() -> None:
        log.append(f"{name} started")
        await asyncio.sleep(delay)
        if fails:
            raise RuntimeError(name)
        log.append(f"{name} done")

    return write


async def test_queued_writes_run_one_after_the_other_in_order() -> None:
    log: list[str] = []
    chain = WriteChain()
    chain.send(recording(log, "a", delay=0.02))
    chain.queue(recording(log, "b"))
    chain.queue(recording(log, "c"))
    assert chain.busy() and chain.queued == 2
    await chain.drain()
    assert log == ["a started", "a done", "b started", "b done", "c started", "c done"]
    assert not chain.busy() and chain.queued == 0


async def test_a_write_queued_behind_a_failure_never_starts_and_drain_raises_the_first() -> None:
    log: list[str] = []
    chain = WriteChain()
    chain.send(recording(log, "a", delay=0.01, fails=True))
    chain.queue(recording(log, "b", fails=True))
    with pytest.raises(RuntimeError, match=r"^a$"):
        await chain.drain()
    assert log == ["a started"] and chain.queued == 0


async def test_settle_waits_and_swallows_the_failure() -> None:
    log: list[str] = []
    chain = WriteChain()
    chain.send(recording(log, "a", delay=0.01, fails=True))
    chain.queue(recording(log, "b"))
    await chain.settle()
    assert log == ["a started"] and not chain.busy()
    await chain.drain()  # nothing left
