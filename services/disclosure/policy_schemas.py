"""Requests and answers of policy publication (政策发布): disclosure's own aggregate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PolicyText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_zh: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    body_zh: str = Field(min_length=1, max_length=200_000, description="Markdown")
    body_en: str = Field(min_length=1, max_length=200_000, description="Markdown")
    category: Literal["regulation", "methodology", "notice", "market_rule"]
    issuer: str = Field(min_length=1, max_length=200, description="the issuing body")
    document_number: str = Field(min_length=1, max_length=100, description="文号")
    issued_on: date
    effective_on: date


class AmendPolicy(PolicyText):
    note: str | None = Field(default=None, max_length=1000, description="what changed")


class WithdrawPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class PolicyReceipt(BaseModel):
    id: str
    version: int
    withdrawn: bool = False


class PolicyVersionView(BaseModel):
    version: int
    title_zh: str
    title_en: str
    body_zh_html: str
    body_en_html: str
    category: str
    issuer: str
    document_number: str
    issued_on: date
    effective_on: date
    note: str | None
    published_at: datetime


class PolicySummary(BaseModel):
    id: str
    version: int
    title_zh: str
    title_en: str
    category: str
    issuer: str
    document_number: str
    issued_on: date
    effective_on: date
    withdrawn: bool
    withdrawn_reason: str | None


class PolicyPage(BaseModel):
    items: list[PolicySummary]
    next_cursor: str | None


class PolicyAttachment(BaseModel):
    id: str
    version: int = Field(description="the version current when it was attached")
    filename: str
    media_type: str
    size: int
    sha256: str
    attached_at: datetime


class PolicyView(PolicySummary):
    versions: list[PolicyVersionView] = Field(description="every version, newest first")
    attachments: list[PolicyAttachment] = Field(default_factory=list)
