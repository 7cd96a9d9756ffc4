"""Public read models of the disclosure service."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


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
