"""Public read models of the disclosure service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class PublicBlock(BaseModel):
    serial: str
    account: str
    start: int
    end: int
    quantity: int


class PublicIssuance(BaseModel):
    batch_id: str
    program: str
    scope: str
    project: str
    vintage: int
    quantity: int
    buffer_quantity: int
    start: int
    end: int
    issued_at: str
    blocks: list[PublicBlock]


class IssuancePage(BaseModel):
    items: list[PublicIssuance]
    next_cursor: str | None


class PublicInstrument(BaseModel):
    id: str
    program: str
    vintage: int
    market_model: str
    reference_price: int


class InstrumentPage(BaseModel):
    items: list[PublicInstrument]
    next_cursor: str | None


class PublicBar(BaseModel):
    date: date
    open: int | None
    high: int | None
    low: int | None
    close: int
    volume: int
    turnover: int
    vwap: int | None


class PublicDaily(BaseModel):
    instrument: str
    days: list[PublicBar]


class RetiredBlock(BaseModel):
    serial: str
    quantity: int


class PublicRetirement(BaseModel):
    id: str
    account: str
    owner: str = Field(description="the account's owner organisation")
    quantity: int
    beneficiary: str
    purpose: str
    claim_period: str | None
    blocks: list[RetiredBlock]
    retired_at: datetime


class PublicCancellation(BaseModel):
    id: str
    account: str
    owner: str = Field(description="the account's owner organisation")
    quantity: int
    reason: str = Field(description="reversal (drawn on a buffer), correction or export")
    note: str | None
    blocks: list[RetiredBlock]
    cancelled_at: datetime


class CancellationPage(BaseModel):
    items: list[PublicCancellation]
    next_cursor: str | None


class BufferPoolRow(BaseModel):
    program: str
    contributed: int = Field(description="t issued into the program's buffer")
    cancelled: int = Field(description="t cancelled from buffer accounts (reversals)")
    remaining: int


class BufferPool(BaseModel):
    items: list[BufferPoolRow]
    next_cursor: str | None = None


class RetirementPage(BaseModel):
    items: list[PublicRetirement]
    next_cursor: str | None


class TotalsRow(BaseModel):
    key: str
    issued: int
    retired: int
    cancelled: int
    outstanding: int = Field(description="issued − retired − cancelled")


class PublicTotals(BaseModel):
    by: str
    rows: list[TotalsRow]
    overall: TotalsRow


class PublicProject(BaseModel):
    id: str
    program: str
    county: str
    title: str
    title_en: str | None
    description: str | None
    developer: str
    methodology: str
    methodology_version: int
    crediting_start: str
    crediting_end: str
    status: str
    notice_ends_at: datetime | None


class ProjectPage(BaseModel):
    items: list[PublicProject]
    next_cursor: str | None


class PublicParcel(BaseModel):
    parcel_id: str
    name: str | None
    geometry: dict[str, object] = Field(description="GeoJSON geometry, WGS 84")
    area_ha: str


class PublicDocument(BaseModel):
    id: str
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    time: datetime


class HistoryStep(BaseModel):
    action: str
    from_status: str
    to_status: str
    comment: str | None
    time: datetime


class MonitoringReport(BaseModel):
    """A monitoring period's report (MRV): submitted, verified by an accredited verifier,
    approved for issuance. tCO2e as decimal strings; issued quantities in whole tonnes."""

    report_id: str
    period_start: date
    period_end: date
    vintage: int
    methodology: str
    methodology_version: int
    net_tco2e: str
    submitted_at: datetime
    verifier: str | None
    verified_tco2e: str | None
    statement_document: str | None = Field(description="the verification statement's document id")
    verified_at: datetime | None
    issued_quantity: int | None = Field(description="t issued, the buffer's share included")
    buffer_quantity: int | None
    approved_at: datetime | None


class ProjectDetail(PublicProject):
    parcels: list[PublicParcel]
    area_ha: str = Field(description="the parcels' total computed area")
    documents: list[PublicDocument]
    history: list[HistoryStep]
    monitoring: list[MonitoringReport] = Field(description="monitoring periods, oldest first")


class PublicNotice(BaseModel):
    project_id: str
    title: str
    title_en: str | None
    county: str
    status: str
    notice_ends_at: datetime
    comments: int


class NoticePage(BaseModel):
    items: list[PublicNotice]
    next_cursor: str | None


class PublicMethodology(BaseModel):
    id: str
    version: int
    name_zh: str
    name_en: str


class MethodologyPage(BaseModel):
    items: list[PublicMethodology]
    next_cursor: str | None


class PublicComment(BaseModel):
    id: str
    author: str | None
    text: str
    time: datetime


class CommentPage(BaseModel):
    items: list[PublicComment]
    next_cursor: str | None


class SerialMovement(BaseModel):
    event: str
    operation: str = Field(description="the registry stream: transfer/…, retirement/…, hold/…")
    start: int
    end: int
    from_owner: str | None = Field(description="the owner organisation (none: issued)")
    from_state: str | None
    to_owner: str | None
    to_state: str | None
    time: datetime


class SerialView(BaseModel):
    serial: str
    batch: PublicIssuance | None
    project: PublicProject | None = Field(description="when the project is public")
    movements: list[SerialMovement]
    retirement: PublicRetirement | None = Field(description="null while the units are live")


class BatchSupply(BaseModel):
    """t of one batch: issued = outstanding (available or held) + retired + cancelled."""

    issued: int
    outstanding: int
    retired: int
    cancelled: int


class ReconciliationRow(BaseModel):
    batch_id: str
    read_model: BatchSupply
    registry: BatchSupply | None = Field(description="the registry's answer now; null: none")
    agrees: bool | None


class ReconciliationPage(BaseModel):
    items: list[ReconciliationRow]
    next_cursor: str | None
    registry_events_consumed: int = Field(description="registry events the read models applied")
    registry_sequence_consumed: int | None = Field(description="the newest one's log sequence")


class PublicPointsScheme(BaseModel):
    """A carbon points scheme (碳积分): what backs it and what it has minted. 1 point = 1 kgCO2e;
    a backed scheme's minted points never exceed its backing (1,000 per retired tonne)."""

    id: str
    name: str
    operator: str
    backed: bool
    backing_points: int
    minted: int
    redeemed: int
    outstanding: int


class PointsSchemePage(BaseModel):
    items: list[PublicPointsScheme]
    next_cursor: str | None


class PublicLabel(BaseModel):
    """A carbon label (碳标签) as anyone verifies it: the product's claim and the retirement
    behind it (its blocks lead to each serial's provenance)."""

    code: str
    owner: str
    product: str
    product_batch: str
    functional_unit: str
    units_covered: int
    footprint_kg_per_unit: str = Field(description="kg CO2e per unit; negative: a net sink")
    offset_kg_per_unit: str = Field(description="kg CO2e per unit covered by the retirement")
    claimed_kg: str
    valid_from: date
    valid_to: date
    status: Literal["valid", "not_yet_valid", "expired", "revoked"]
    revoked_reason: str | None
    retirement_id: str
    retirement: PublicRetirement | None = Field(description="null until disclosure has it")


class SupervisionAlert(BaseModel):
    kind: Literal["wash_trade", "price_move", "concentration", "verification_anomaly"]
    subject: str = Field(description="the trade, `<instrument>/<day>`, or the monitoring report")
    instrument: str | None
    trading_day: date | None
    project: str | None
    summary: str
    detail: dict[str, str | int | None]


class SupervisionAlertPage(BaseModel):
    items: list[SupervisionAlert]
    next_cursor: str | None


class PositionIn(BaseModel):
    program: Literal["YRDPH", "CCER"]
    vintage: int = Field(ge=1990, le=2100)
    quantity: int = Field(gt=0, le=10**12, description="t")


class ValuationRequest(BaseModel):
    positions: list[PositionIn] = Field(min_length=1, max_length=1000)
    as_of: date | None = Field(default=None, description="the day marked; today if absent")


class ValuationLine(BaseModel):
    program: str
    vintage: int
    quantity: int
    instrument: str | None = Field(description="the market of these credits; null: none")
    price: int | None = Field(description="fen per tonne")
    basis: Literal["close", "reference"] | None = Field(
        description="the latest close on or before `as_of`, or the reference price before any"
    )
    marked_on: date | None = Field(description="the close's trading day")
    value: int | None = Field(description="fen; null without a market")


class ValuationView(BaseModel):
    account: str | None = None
    as_of: date
    lines: list[ValuationLine]
    total_value: int = Field(description="fen, of the lines with a market")
    unpriced_quantity: int = Field(description="t without a market")


class TrailEvent(BaseModel):
    service: str
    event: dict[str, object] = Field(description="the event's envelope, as its log holds it")


class AuditTrail(BaseModel):
    stream: str
    events: list[TrailEvent] = Field(description="every service's events of the stream, by time")
    unavailable: list[str] = Field(description="services whose log could not be read now")
