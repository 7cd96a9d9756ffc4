"""One appended event as its `events` row: id, canonical hash chained to the previous one, data.

Pure (no I/O): `EventTransaction` keeps the sequence and the chain, this builds each row. The
canonical bytes around an event depend only on its command's context, so they are built once
per context (`EnvelopeTemplate`) and only the event's own fields are joined in per event.
"""

from __future__ import annotations

from typing import Any

import orjson

from libs.events.catalog import Payload
from libs.events.envelope import EnvelopeTemplate, hash_of_envelope
from libs.events.ids import new_event_id_text
from libs.events.records import EventContext

Row = tuple[Any, ...]  # the `events` columns in order; the hash is ROW_HASH
ROW_ID, ROW_HASH = 1, 11


class EventRows:
    """Builds the rows of one transaction's events (the source and a template cache)."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._template: EnvelopeTemplate | None = None
        self._template_context: EventContext | None = None

    def row(
        self,
        ctx: EventContext,
        now: str,
        sequence: int,
        stream: str,
        version: int,
        event: Payload,
        prevhash: str,
    ) -> Row:
        event_id = new_event_id_text()
        data = event.to_data()
        stored: dict[str, Any] | orjson.Fragment
        if event.jcs_safe:  # hashed from the context's template; the one dump is stored too
            template = self._template_of(ctx, now)
            dumped = template.dump_data(data)
            digest = template.hash(
                dumped, event_id, prevhash, sequence, version, stream, event.event_type
            )
            stored = orjson.Fragment(dumped)  # embedded as is when the column is dumped
        else:
            body = {
                "specversion": "1.0",
                "id": event_id,
                "source": self._source,
                "type": event.event_type,
                "subject": stream,
                "time": now,
                "sequence": sequence,
                "streamversion": version,
                "actor": ctx.actor,
                "correlationid": ctx.correlation_id,
                "causationid": ctx.causation_id,
                "traceparent": ctx.traceparent,
                "prevhash": prevhash,
                "data": data,
            }
            digest = hash_of_envelope(body, False)
            stored = data  # dumped with the whole column (`flush_sql.selected_rows`)
        return (
            sequence, event_id, stream, version, event.event_type, now, ctx.actor,
            ctx.correlation_id, ctx.causation_id, ctx.traceparent, prevhash, digest, stored,
        )  # fmt: skip

    def _template_of(self, ctx: EventContext, now: str) -> EnvelopeTemplate:
        """The canonical bytes around the events of one command's context (built once)."""
        if self._template is None or self._template_context is not ctx:
            self._template = EnvelopeTemplate(
                self._source, ctx.actor, ctx.correlation_id, ctx.causation_id,
                ctx.traceparent, now,
            )  # fmt: skip
            self._template_context = ctx
        return self._template
