"""Kafka consumers of the disclosure service: registry and matching events into public read
models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from libs.events.consumer import EventConsumer
from libs.events.contract import issuance, matching, registry
from libs.events.envelope import Envelope, parse_time
from libs.events.store import EventTransaction
from libs.servicekit.runtime import Runtime
from services.disclosure import projects_store, store
from services.disclosure.schemas import PublicBlock, PublicIssuance


async def on_registry_event(tx: EventTransaction, envelope: Envelope) -> None:
    """Every movement of units (serial provenance); issuances, retirements, cancellations and
    accounts (owners' names). Freezes change nothing public (README, "Consumes")."""
    if not registry.catalog.knows(envelope.type):
        return  # an event type this read model does not use
    event = registry.catalog.decode(envelope.type, envelope.data)
    moves = getattr(event, "movements", None)
    if moves:  # every unit's whole history, for serial provenance
        await store.insert_movements(
            tx,
            envelope.sequence,
            event.event_name,
            envelope.subject,
            parse_time(envelope.time),
            moves,
        )
    if isinstance(event, registry.AccountOpened):
        account = event.model_dump() | {"id": event.account_id}
        await store.upsert_account(tx, account)
    elif isinstance(event, registry.CreditsIssued):
        await store.upsert_issuance(
            tx,
            public_issuance(event, envelope.time),
            parse_time(envelope.time),
            envelope.sequence,
        )
        await store.add_to_batch_totals(tx, "issued", {event.batch_id: event.end - event.start + 1})
    elif isinstance(event, registry.CreditsRetired):
        await store.insert_retirement(
            tx, public_retirement(event, envelope.time), envelope.sequence
        )
        await store.add_to_batch_totals(tx, "retired", units_by_batch(event.movements))
    elif isinstance(event, registry.CreditsCancelled):
        await store.add_to_batch_totals(tx, "cancelled", units_by_batch(event.movements))


def serial(m: registry.Movement) -> str:
    return f"{m.batch_id}-{m.start:09d}-{m.end:09d}"


def units_by_batch(movements: Sequence[registry.Movement]) -> dict[str, int]:
    units: dict[str, int] = {}
    for m in movements:
        units[m.batch_id] = units.get(m.batch_id, 0) + m.end - m.start + 1
    return units


def public_retirement(event: registry.CreditsRetired, retired_at: str) -> dict[str, object]:
    return {
        "id": event.retirement_id,
        "account": event.account,
        "quantity": event.quantity,
        "beneficiary": event.beneficiary,
        "purpose": event.purpose,
        "claim_period": event.claim_period,
        "blocks": [{"serial": serial(m), "quantity": m.end - m.start + 1} for m in event.movements],
        "retired_at": parse_time(retired_at),
    }


def public_issuance(event: registry.CreditsIssued, issued_at: str) -> PublicIssuance:
    blocks = [
        PublicBlock(
            serial=serial(m),
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


async def on_issuance_event(tx: EventTransaction, envelope: Envelope) -> None:
    """Projects with their parcels, documents, lifecycle, notice comments and monitoring
    reports with their verification and approval (all served only once the project is
    public)."""
    if not issuance.catalog.knows(envelope.type):
        return
    event = issuance.catalog.decode(envelope.type, envelope.data)
    time = parse_time(envelope.time)
    data = event.model_dump()
    if isinstance(event, issuance.ProjectCreated):
        await projects_store.insert_project(tx, data, envelope.sequence)
    elif isinstance(event, issuance.ProjectTransitioned):
        ends = parse_time(event.notice_ends_at) if event.notice_ends_at else None
        await projects_store.transition(tx, data, envelope.sequence, time, ends)
    elif isinstance(event, issuance.ParcelsAdded):
        await projects_store.add_parcels(tx, event.project_id, data["parcels"])
    elif isinstance(event, issuance.DocumentAttached):
        await projects_store.add_document(tx, data, time)
    elif isinstance(event, issuance.NoticeCommentReceived):
        await projects_store.add_comment(tx, data, time)
    elif isinstance(event, issuance.MonitoringReportSubmitted):
        await projects_store.report_submitted(tx, data, envelope.sequence, time)
    elif isinstance(event, issuance.MonitoringReportVerified):
        await projects_store.report_verified(tx, data, time)
    elif isinstance(event, issuance.IssuanceApproved):
        await projects_store.issuance_approved(tx, data, time)


# The handler of each source topic (also used by `rebuild.py`).
HANDLERS = {
    "registry": on_registry_event,
    "issuance": on_issuance_event,
    "matching": on_matching_event,
}


def consumers(runtime: Runtime) -> Sequence[EventConsumer]:
    return [runtime.consumer(source, source, handler) for source, handler in HANDLERS.items()]
