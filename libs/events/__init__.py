"""The event contract and its machinery (docs/events.md)."""

from libs.events.catalog import EventCatalog, EventPayload, UnknownEventType
from libs.events.consumer import EventConsumer, PoisonMessage
from libs.events.envelope import GENESIS_HASH, ChainBreak, ChainVerifier, Envelope
from libs.events.relay import OutboxRelay
from libs.events.store import (
    ANY_VERSION,
    ConcurrencyConflict,
    EventContext,
    EventStore,
    EventTransaction,
    Recorded,
)
from libs.events.writer import CommandWriter, WriterStopped

__all__ = [
    "ANY_VERSION",
    "GENESIS_HASH",
    "ChainBreak",
    "ChainVerifier",
    "CommandWriter",
    "ConcurrencyConflict",
    "Envelope",
    "EventCatalog",
    "EventConsumer",
    "EventContext",
    "EventPayload",
    "EventStore",
    "EventTransaction",
    "OutboxRelay",
    "PoisonMessage",
    "Recorded",
    "UnknownEventType",
    "WriterStopped",
]
