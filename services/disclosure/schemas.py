"""Public read models of the disclosure service."""

from __future__ import annotations

from datetime import date, datetime

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


class ProjectDetail(PublicProject):
    parcels: list[PublicParcel]
    area_ha: str = Field(description="the parcels' total computed area")
    documents: list[PublicDocument]
    history: list[HistoryStep]


class PublicNotice(BaseModel):
    project_id: str
    title: str
    title_en: str | None
    county: str
    status: str
    notice_ends_at: datetime
    comments: int


class PublicComment(BaseModel):
    id: str
    author: str | None
    text: str
    time: datetime
