"""Kafka consumers of the disclosure service: registry events into public read models."""

from __future__ import annotations

from collections.abc import Sequence

from libs.events.consumer import EventConsumer
from libs.events.contract import registry
from libs.events.envelope import Envelope, parse_time
from libs.events.store import EventTransaction
from libs.servicekit.runtime import Runtime
from services.disclosure import store
from services.disclosure.schemas import PublicBlock, PublicIssuance


async def on_registry_event(tx: EventTransaction, envelope: Envelope) -> None:
    if not registry.catalog.knows(envelope.type):
        return  # an event type this read model does not use
    event = registry.catalog.decode(envelope.type, envelope.data)
    if isinstance(event, registry.CreditsIssued):
        await store.upsert_issuance(
            tx,
            public_issuance(event, envelope.time),
            parse_time(envelope.time),
            envelope.sequence,
        )


def public_issuance(event: registry.CreditsIssued, issued_at: str) -> PublicIssuance:
    blocks = [
        PublicBlock(
            serial=f"{m.batch_id}-{m.start:09d}-{m.end:09d}",
            account=m.to.account or "",
            start=m.start,
            end=m.end,
            quantity=m.end - m.start + 1,
        )
        for m in event.movements
        if m.to is not None
    ]
    return PublicIssuance(
        batch_id=event.batch_id,
        program=event.program,
        scope=event.scope,
        project=event.project,
        vintage=event.vintage,
        quantity=event.quantity,
        buffer_quantity=event.buffer_quantity,
        start=event.start,
        end=event.end,
        issued_at=issued_at,
        blocks=blocks,
    )


def consumers(runtime: Runtime) -> Sequence[EventConsumer]:
    return [runtime.consumer("registry", "registry", on_registry_event)]
