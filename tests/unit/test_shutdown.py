"""Bounded shutdown steps: an overrunning or failing step is abandoned and named, never waited
on for ever; the relay's wake-up wait stays cancellable."""

from __future__ import annotations

import asyncio
import logging

import pytest

from libs.events.relay import sleep_until_set
from libs.events.shutdown import await_chain, cancel_all, within

pytestmark = pytest.mark.overruns_expected


async def _stubborn(released: asyncio.Event) -> None:
    """A step that swallows cancellation until released (like a client stuck in its stop)."""
    while not released.is_set():
        try:
            await released.wait()
        except asyncio.CancelledError:
            continue


async def test_a_step_that_finishes_in_time_succeeds() -> None:
    assert await within("quick", asyncio.sleep(0.001, "done"), seconds=1)


async def test_an_overrunning_step_is_abandoned_and_says_where_it_waited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    released = asyncio.Event()
    started = asyncio.get_running_loop().time()
    assert not await within("the stubborn client's stop", _stubborn(released), seconds=0.05)
    assert asyncio.get_running_loop().time() - started < 1
    (record,) = [r for r in caplog.records if r.name == "libs.events.shutdown"]
    assert record.levelno == logging.WARNING
    assert "the stubborn client's stop did not finish" in record.getMessage()
    assert "in _stubborn" in record.getMessage()
    released.set()


async def test_a_failing_step_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise ConnectionResetError("peer went away")

    assert not await within("closing", broken(), seconds=1)
    assert "closing failed: ConnectionResetError: peer went away" in caplog.text


async def test_cancel_all_waits_for_cleanup_but_not_for_ever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cleaned = []

    async def polite() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.01)
            cleaned.append("polite")

    released = asyncio.Event()
    tasks = [
        asyncio.create_task(polite(), name="polite"),
        asyncio.create_task(_stubborn(released), name="stubborn"),
    ]
    await asyncio.sleep(0)
    await cancel_all(tasks, seconds=0.2)
    assert cleaned == ["polite"] and tasks[0].cancelled()
    assert not tasks[1].done()
    assert "task stubborn still running" in caplog.text
    released.set()
    await tasks[1]


async def test_the_await_chain_names_each_coroutine_down_to_the_future() -> None:
    async def inner(event: asyncio.Event) -> None:
        await event.wait()

    async def outer(event: asyncio.Event) -> None:
        await inner(event)

    event = asyncio.Event()
    task = asyncio.create_task(outer(event))
    await asyncio.sleep(0)
    chain = await_chain(task)
    assert [line.rsplit(" in ", 1)[-1].strip() for line in chain[:3]] == ["outer", "inner", "wait"]
    assert chain[-1].strip().startswith("awaiting")
    event.set()
    await task


async def _woken_loop(wake: asyncio.Event, laps: list[int]) -> None:
    """The relay's loop shape: publish, then sleep until notified or the poll interval."""
    while True:
        wake.clear()
        laps.append(1)
        await sleep_until_set(wake, 1.0)


@pytest.mark.parametrize("turns_between", [0, 1, 2])
async def test_a_loop_woken_and_cancelled_in_the_same_turn_stops(turns_between: int) -> None:
    # asyncio.wait_for on Python 3.11 returned the event here and dropped the cancellation:
    # the relay looped for ever and its service's stop hung (gh-86296).
    for _ in range(20):
        wake, laps = asyncio.Event(), []
        task = asyncio.create_task(_woken_loop(wake, laps))
        await asyncio.sleep(0.001)
        wake.set()
        for _ in range(turns_between):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=0.5)
        assert done == {task} and task.cancelled(), f"still looping after {len(laps)} laps"


async def test_sleep_until_set_returns_on_the_event_or_the_timeout() -> None:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    started = loop.time()
    await sleep_until_set(wake, 0.05)
    assert 0.04 <= loop.time() - started < 0.5
    loop.call_later(0.01, wake.set)
    started = loop.time()
    await sleep_until_set(wake, 5)
    assert wake.is_set() and loop.time() - started < 1
