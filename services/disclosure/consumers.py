"""Kafka consumers of the disclosure service: registry and matching events into public read
models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from libs.events.consumer import BatchHandler, EventConsumer, one_by_one
from libs.events.contract import issuance, matching, registry
from libs.events.envelope import Envelope, parse_time
from libs.events.store import EventTransaction
from libs.servicekit.runtime import Runtime
from services.disclosure import derivatives_store, market_store, projects_store, store
from services.disclosure.schemas import PublicBlock, PublicIssuance

# Points events that change a scheme's public totals, in the order [backing, minted, redeemed].
POINTS_COUNTED = (registry.PointsBackingAdded, registry.PointsMinted, registry.PointsRedeemed)


@dataclass
class RegistryRows:
    """The read models' rows from a run of registry events, gathered in log order, then
    written with one statement per table: a consumer's whole batch costs a handful of round
    trips, not several per event. A single event is a run of one — there is no other path."""

    movements: list[store.MovementRow] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    issuances: list[tuple[PublicIssuance, datetime, int]] = field(default_factory=list)
    retirements: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    cancellations: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"issued": {}, "retired": {}, "cancelled": {}}
    )
    points_schemes: list[tuple[str, str, str, bool]] = field(default_factory=list)
    points: dict[str, list[int]] = field(default_factory=dict)  # [backing, minted, redeemed]
    labels: list[dict[str, Any]] = field(default_factory=list)
    revoked_labels: list[tuple[str, str]] = field(default_factory=list)

    def add(self, envelope: Envelope) -> None:
        """Every movement of units (serial provenance); issuances, retirements,
        cancellations, accounts (owners' names), points schemes' totals and carbon labels.
        Freezes and
        points transfers change nothing public (README, "Consumes"); event types this read
        model does not use are skipped."""
        if not registry.catalog.knows(envelope.type):
            return
        event = registry.catalog.decode(envelope.type, envelope.data)
        time = parse_time(envelope.time)
        for position, m in enumerate(getattr(event, "movements", None) or ()):
            self.movements.append(_movement_row(envelope, event.event_name, position, m, time))
        if isinstance(event, registry.AccountOpened):
            self.accounts.append(event.model_dump() | {"id": event.account_id})
        elif isinstance(event, registry.CreditsIssued):
            self.issuances.append((public_issuance(event, envelope.time), time, envelope.sequence))
            self._count("issued", {event.batch_id: event.end - event.start + 1})
        elif isinstance(event, registry.CreditsRetired):
            self.retirements.append((public_retirement(event, time), envelope.sequence))
            self._count("retired", units_by_batch(event.movements))
        elif isinstance(event, registry.CreditsCancelled):
            self.cancellations.append((public_cancellation(event, time), envelope.sequence))
            self._count("cancelled", units_by_batch(event.movements))
        elif isinstance(event, registry.LabelIssued):
            self.labels.append(
                event.model_dump()
                | {
                    "valid_from": date.fromisoformat(event.valid_from),
                    "valid_to": date.fromisoformat(event.valid_to),
                }
            )
        elif isinstance(event, registry.LabelRevoked):
            self.revoked_labels.append((event.code, event.reason))
        elif isinstance(event, registry.PointsSchemeCreated):
            self.points_schemes.append((event.scheme_id, event.name, event.operator, event.backed))
        elif isinstance(event, POINTS_COUNTED):
            column = POINTS_COUNTED.index(type(event))
            self.points.setdefault(event.scheme_id, [0, 0, 0])[column] += event.points

    def _count(self, column: str, units: dict[str, int]) -> None:
        kept = self.totals[column]
        for batch_id, count in units.items():
            kept[batch_id] = kept.get(batch_id, 0) + count

    async def write(self, tx: EventTransaction) -> None:
        if self.movements:
            await store.insert_movements(tx, self.movements)
        if self.accounts:
            await store.insert_accounts(tx, self.accounts)
        if self.issuances:
            await store.insert_issuances(tx, self.issuances)
        if self.retirements:
            await store.insert_retirements(tx, self.retirements)
        if self.cancellations:
            await store.insert_cancellations(tx, self.cancellations)
        for column, by_batch in self.totals.items():
            if by_batch:
                await store.add_to_batch_totals(tx, column, by_batch)
        if self.points_schemes:
            await derivatives_store.insert_points_schemes(tx, self.points_schemes)
        if self.points:  # after the schemes: a scheme and its first mints share a run
            await derivatives_store.add_points(tx, self.points)
        if self.labels:
            await derivatives_store.insert_labels(tx, self.labels)
        if self.revoked_labels:  # after the labels, for the same reason
            await derivatives_store.revoke_labels(tx, self.revoked_labels)


def _movement_row(
    envelope: Envelope, name: str, position: int, m: registry.Movement, time: datetime
) -> store.MovementRow:
    return (
        envelope.sequence, position, name, envelope.subject, m.batch_id, m.start, m.end,
        m.from_.account if m.from_ else None, m.from_.state if m.from_ else None,
        m.to.account if m.to else None, m.to.state if m.to else None, time,
    )  # fmt: skip


async def on_registry_events(tx: EventTransaction, envelopes: Sequence[Envelope]) -> None:
    rows = RegistryRows()
    for envelope in envelopes:
        rows.add(envelope)
    await rows.write(tx)


async def on_registry_event(tx: EventTransaction, envelope: Envelope) -> None:
    await on_registry_events(tx, [envelope])


def serial(m: registry.Movement) -> str:
    return f"{m.batch_id}-{m.start:09d}-{m.end:09d}"


def units_by_batch(movements: Sequence[registry.Movement]) -> dict[str, int]:
    units: dict[str, int] = {}
    for m in movements:
        units[m.batch_id] = units.get(m.batch_id, 0) + m.end - m.start + 1
    return units


def serial_blocks(movements: Sequence[registry.Movement]) -> list[dict[str, object]]:
    """The blocks a retirement or cancellation took, as the public sees them."""
    return [{"serial": serial(m), "quantity": m.end - m.start + 1} for m in movements]


def public_retirement(event: registry.CreditsRetired, retired_at: datetime) -> dict[str, object]:
    return {
        "id": event.retirement_id,
        "account": event.account,
        "quantity": event.quantity,
        "beneficiary": event.beneficiary,
        "purpose": event.purpose,
        "claim_period": event.claim_period,
        "blocks": serial_blocks(event.movements),
        "retired_at": retired_at,
    }


def public_cancellation(event: registry.CreditsCancelled, at: datetime) -> dict[str, object]:
    return {
        "id": event.cancellation_id,
        "account": event.account,
        "quantity": event.quantity,
        "reason": event.reason,
        "note": event.note,
        "blocks": serial_blocks(event.movements),
        "cancelled_at": at,
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


# The matching events the market statistics use; the rest (most of the topic: orders,
# listings, settlement steps) are skipped before they are decoded.
MATCHING_USED = matching.catalog.types_of(
    matching.InstrumentListed, matching.TradeExecuted, matching.TradeFailed
)


async def on_matching_event(tx: EventTransaction, envelope: Envelope) -> None:
    """Market statistics: instruments and the trades that stand (a failed trade is marked,
    never counted). Listings, orders, members and settlement steps are skipped."""
    if envelope.type not in MATCHING_USED or not matching.catalog.knows(envelope.type):
        return
    event = matching.catalog.decode(envelope.type, envelope.data)
    if isinstance(event, matching.InstrumentListed):
        instrument = event.model_dump() | {"id": event.instrument_id}
        await market_store.upsert_instrument(tx, instrument, envelope.sequence)
    elif isinstance(event, matching.TradeExecuted):  # with both parties, for supervision
        trade = event.model_dump() | {"trading_day": date.fromisoformat(event.trading_day)}
        await market_store.insert_trade(tx, trade, envelope.sequence)
    elif isinstance(event, matching.TradeFailed):
        await market_store.mark_trade_failed(tx, event.trade_id)


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


# The handler of each source topic.
HANDLERS = {
    "registry": on_registry_event,
    "issuance": on_issuance_event,
    "matching": on_matching_event,
}


# The registry's topic carries most events: its consumer applies each run set-wise.
BATCH_HANDLERS = {"registry": on_registry_events}


def run_handler(source: str) -> BatchHandler:
    """What applies a run of `source`'s events in one transaction (also used by `rebuild.py`)."""
    return BATCH_HANDLERS.get(source) or one_by_one(HANDLERS[source])


def consumers(runtime: Runtime) -> Sequence[EventConsumer]:
    return [
        runtime.consumer(source, source, handler, run_handler(source))
        for source, handler in HANDLERS.items()
    ]
