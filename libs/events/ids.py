"""Identifiers: UUID v7 (time-ordered) for event ids."""

from __future__ import annotations

import uuid

import uuid_utils


def new_event_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def new_event_id_text() -> str:
    return str(uuid_utils.uuid7())
