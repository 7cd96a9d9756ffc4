"""Fixtures of the unit tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No TANHUI_ variable of the test run leaks into the settings under test."""
    for name in list(os.environ):
        if name.startswith("TANHUI_") or name == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(name)
    return monkeypatch
