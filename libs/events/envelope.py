"""The CloudEvents 1.0 envelope of docs/events.md and its hash chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from libs.events.canonical import canonical_envelope, canonical_json

GENESIS_HASH = "0" * 64
SPEC_VERSION = "1.0"


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds: the one rendering used when hashing."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Envelope(BaseModel):
    """A recorded event exactly as published on Kafka and served to auditors."""

    model_config = ConfigDict(frozen=True)

    specversion: str = SPEC_VERSION
    id: str
    source: str
    type: str
    subject: str
    time: str
    sequence: int
    streamversion: int
    actor: str
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None
    prevhash: str
    hash: str
    data: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def computed_hash(self) -> str:
        body = self.model_dump()
        del body["hash"]
        return hash_of(body)


def hash_of(envelope_without_hash: dict[str, Any]) -> str:
    """`hash` = lowercase hex SHA-256 of the JCS bytes of the envelope minus `hash` (docs/events.md)."""
    return hashlib.sha256(canonical_json(envelope_without_hash)).hexdigest()


def hash_of_envelope(envelope_without_hash: dict[str, Any], data_proven_safe: bool) -> str:
    """`hash_of` for envelopes built by the store, whose own fields need no checking; `data`
    is checked unless its payload class was proven safe (`libs.events.jcs_safety`)."""
    body = envelope_without_hash
    if data_proven_safe:
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return hashlib.sha256(canonical_envelope(body, body["data"])).hexdigest()


class EnvelopeTemplate:
    """The canonical bytes of envelopes that share their context (source, actor, ids of
    correlation and causation, trace, time), assembled around each event's own fields and its
    `data` dumped once: the same bytes `hash_of_envelope` hashes (the keys in JCS order), and
    that dump is also what the `data` column stores — 10,000 events of one bulk request
    were otherwise laid out as dicts, sorted and dumped, then dumped again for the column.
    Only for data proven JCS-safe (`libs.events.jcs_safety`); the fields around it are
    ASCII-keyed strings, safe ints and nulls by construction."""

    __slots__ = ("_head", "_source", "_tail")

    def __init__(
        self,
        source: str,
        actor: str,
        correlation_id: str | None,
        causation_id: str | None,
        traceparent: str | None,
        time: str,
    ) -> None:
        dump = orjson.dumps
        self._head = (
            b'{"actor":' + dump(actor) + b',"causationid":' + dump(causation_id)
            + b',"correlationid":' + dump(correlation_id) + b',"data":'
        )  # fmt: skip
        self._source = b',"source":' + dump(source) + b',"specversion":"1.0","streamversion":'
        self._tail = b',"time":' + dump(time) + b',"traceparent":' + dump(traceparent)

    @staticmethod
    def dump_data(data: dict[str, Any]) -> bytes:
        """`data` as the envelope's canonical bytes hold it (and as the log stores it)."""
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)

    def hash(
        self,
        dumped_data: bytes,
        event_id: str,
        prevhash: str,
        sequence: int,
        stream_version: int,
        subject: str,
        event_type: str,
    ) -> str:
        canonical = b"".join(
            (
                self._head, dumped_data,
                b',"id":"', event_id.encode(), b'","prevhash":"', prevhash.encode(),
                b'","sequence":', str(sequence).encode(),
                self._source, str(stream_version).encode(),
                b',"subject":', orjson.dumps(subject),
                self._tail, b',"type":', orjson.dumps(event_type), b"}",
            )
        )  # fmt: skip
        return hashlib.sha256(canonical).hexdigest()


class ChainBreak(Exception):
    """The log's hash chain does not verify at a given sequence."""

    def __init__(self, sequence: int, reason: str) -> None:
        super().__init__(f"hash chain broken at sequence {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason


class ChainVerifier:
    """Checks envelopes arrive gap-free, each linked to and hashed over its predecessor."""

    def __init__(self, last_sequence: int = 0, last_hash: str = GENESIS_HASH) -> None:
        self.last_sequence = last_sequence
        self.last_hash = last_hash

    def check(self, envelope: Envelope) -> None:
        if envelope.sequence != self.last_sequence + 1:
            raise ChainBreak(envelope.sequence, f"expected sequence {self.last_sequence + 1}")
        if envelope.prevhash != self.last_hash:
            raise ChainBreak(envelope.sequence, "prevhash does not match the previous hash")
        if envelope.computed_hash() != envelope.hash:
            raise ChainBreak(envelope.sequence, "hash does not match the envelope's content")
        self.last_sequence = envelope.sequence
        self.last_hash = envelope.hash
