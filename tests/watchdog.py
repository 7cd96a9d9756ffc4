"""A deadline per test, so that a hang fails the run quickly and says where it hung.

A test whose setup, call and teardown together outlast `TANHUI_TEST_DEADLINE` seconds gets
every thread's stack and every asyncio task's await chain printed to stderr, then every task
is cancelled (the test errors, the run goes on). If the test still has not finished after a
grace period, or if it is the third test to hang, the run stops the embedded servers and
exits with status 3 rather than sit until CI's own limit.

Shutdown steps that overran their bound during a test (logged by libs/events/shutdown.py) are
listed at the end of the run.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from libs.events import shutdown
from libs.events.shutdown import await_chain

DEADLINE_SECONDS = float(os.environ.get("TANHUI_TEST_DEADLINE", "120"))  # slowest test: ~8 s
GRACE_SECONDS = 30.0
MAX_HITS = 3  # this many hung tests: the platform itself is stuck, stop wasting CI time

_hits: list[str] = []  # the tests that hung
_loop: asyncio.AbstractEventLoop | None = None  # the session's, which the tests run on
_cleanups: list[Callable[[], None]] = []  # run before an aborted run exits
_capture: Any = None  # pytest's capture manager, to write past it
_overruns: list[tuple[str, str]] = []  # (test, message) of shutdown steps that overran


def watch_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The loop the tests run on (the session's), so its tasks can be dumped and cancelled."""
    global _loop
    _loop = loop


def on_abort(cleanup: Callable[[], None]) -> None:
    """Run `cleanup` (e.g. stop PostgreSQL) before an aborted run exits."""
    _cleanups.append(cleanup)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _capture
    _capture = item.config.pluginmanager.getplugin("capturemanager")
    finished = threading.Event()
    guard = threading.Thread(
        target=_guard, args=(item.nodeid, finished), name="test-watchdog", daemon=True
    )
    guard.start()
    try:
        return (yield)
    finally:
        finished.set()


def _guard(nodeid: str, finished: threading.Event) -> None:
    if finished.wait(DEADLINE_SECONDS):
        return
    _say(f"\n*** watchdog: {nodeid} still running after {DEADLINE_SECONDS:.0f} s ***\n")
    with _uncaptured():
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    loop = _loop
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(_dump_and_cancel_tasks, loop)
    _hits.append(nodeid)
    if finished.wait(GRACE_SECONDS) and len(_hits) < MAX_HITS:
        return
    if len(_hits) >= MAX_HITS:
        _say(f"*** watchdog: {len(_hits)} tests hung ({', '.join(_hits)}); aborting the run ***\n")
    else:
        _say(f"*** watchdog: {nodeid} ignored cancellation; aborting the run ***\n")
    for cleanup in reversed(_cleanups):
        try:
            cleanup()
        except Exception:
            traceback.print_exc()
    os._exit(3)


def _dump_and_cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        _say(f"--- task {task.get_name()} ---\n{''.join(await_chain(task))}")
    for task in tasks:
        task.cancel("test watchdog deadline")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _overruns:
        return
    terminalreporter.section("shutdown steps that overran (bounded, abandoned)", yellow=True)
    for nodeid, message in _overruns:
        terminalreporter.line(f"{nodeid}: {message}")


@contextmanager
def shutdown_overruns(nodeid: str, expected: bool) -> Iterator[None]:
    """Collect the warnings of shutdown steps that overran or failed (libs/events/shutdown.py)
    while a test runs, unless it provokes them on purpose: they are listed at the end of the
    run. They do not fail the test — the bound did its job and the test's own assertions
    passed — but each one is a client that hung in its stop and is worth a look."""
    handler = _Collector()
    logger = logging.getLogger(shutdown.__name__)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if not expected:
        _overruns.extend((nodeid, message) for message in handler.messages)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _say(text: str) -> None:
    with _uncaptured():
        sys.stderr.write(text)
        sys.stderr.flush()


@contextmanager
def _uncaptured() -> Iterator[None]:
    """Straight to the terminal (or CI's log), not into the test's captured output, which an
    aborted run never prints."""
    if _capture is None:
        yield
        return
    with _capture.global_and_fixture_disabled():
        yield
