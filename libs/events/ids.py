"""Identifiers: UUID v7 (time-ordered) for event ids."""

from __future__ import annotations

import uuid_utils


def new_event_id_text() -> str:
    return str(uuid_utils.uuid7())
