"""Kafka consumers of the disclosure service: registry and matching events into public read
models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from libs.events.consumer import EventConsumer
from libs.events.contract import matching, registry
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


async def on_matching_event(tx: EventTransaction, envelope: Envelope) -> None:
    """Market statistics: instruments and the trades that stand (a failed trade is marked,
    never counted). Listings, orders, members and settlement steps are skipped."""
    if not matching.catalog.knows(envelope.type):
        return
    event = matching.catalog.decode(envelope.type, envelope.data)
    if isinstance(event, matching.InstrumentListed):
        instrument = event.model_dump() | {"id": event.instrument_id}
        await store.upsert_instrument(tx, instrument, envelope.sequence)
    elif isinstance(event, matching.TradeExecuted):
        trade = event.model_dump() | {"trading_day": date.fromisoformat(event.trading_day)}
        await store.insert_trade(tx, trade, envelope.sequence)
    elif isinstance(event, matching.TradeFailed):
        await store.mark_trade_failed(tx, event.trade_id)


def consumers(runtime: Runtime) -> Sequence[EventConsumer]:
    return [
        runtime.consumer("registry", "registry", on_registry_event),
        runtime.consumer("matching", "matching", on_matching_event),
    ]
