"""The collector pause used around bulk requests."""

from __future__ import annotations

import gc

from libs.servicekit.collector import paused


def test_pauses_nest_and_the_collector_resumes_after_the_last() -> None:
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause is still on
    assert gc.isenabled()


def test_a_collector_disabled_by_someone_else_stays_disabled() -> None:
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_when_the_request_fails() -> None:
    try:
        with paused():
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert gc.isenabled()
