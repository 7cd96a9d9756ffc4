"""Request and response models of the issuance API (docs/domain.md, §8)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DOCUMENT_KINDS = (
    "project_design",  # 项目设计文件 (PDD), developer
    "monitoring_plan",
    "validation_report",  # 审定报告, validator
    "verification_report",  # 核证报告, verifier (a report's statement)
    "other",
)
DocumentKind = Literal[
    "project_design", "monitoring_plan", "validation_report", "verification_report", "other"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# What one anonymous /quantify may ask for: the strata of a large monitoring report, and a
# per-stratum trace (about 20 lines a stratum) only for a smaller one.
MAX_QUANTIFY_STRATA = 10_000
MAX_TRACED_STRATA = 1_000


class QuantifyRequest(Strict):
    version: int | None = Field(default=None, ge=1, description="default: the latest version")
    parameters: dict[str, Any]
    trace: bool = Field(
        default=True,
        description=f"include every intermediate value (at most {MAX_TRACED_STRATA} strata);"
        " false answers the totals only",
    )

    @model_validator(mode="after")
    def bounded(self) -> QuantifyRequest:
        strata = self.parameters.get("strata")
        count = len(strata) if isinstance(strata, list) else 0
        if count > MAX_QUANTIFY_STRATA:
            raise ValueError(f"at most {MAX_QUANTIFY_STRATA} strata per request")
        if self.trace and count > MAX_TRACED_STRATA:
            raise ValueError(f"a trace covers at most {MAX_TRACED_STRATA} strata: send trace=false")
        return self


class QuantifyResult(BaseModel):
    methodology: str
    version: int
    baseline_tco2e: str
    project_tco2e: str
    leakage_tco2e: str
    deductions: dict[str, str]
    net_tco2e: str
    trace: list[dict[str, str]] | None = Field(default=None, description="absent with trace=false")


class CreateProject(Strict):
    county: Literal["QP", "WJ", "JS"] = Field(description="QP 青浦, WJ 吴江, JS 嘉善")
    program: Literal["YRDPH", "CCER"] = "YRDPH"
    title: str = Field(min_length=1, max_length=200, description="zh-CN title")
    title_en: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    methodology: str = Field(examples=["YRD-AG-M001"])
    methodology_version: int | None = Field(default=None, ge=1)
    methodology_parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="project-level parameters of the methodology (all but `strata`)",
    )
    crediting_start: date
    crediting_end: date
    registry_account: str = Field(
        min_length=1, max_length=64, description="the developer's registry account for issuance"
    )

    @model_validator(mode="after")
    def period_in_order(self) -> CreateProject:
        if self.crediting_end <= self.crediting_start:
            raise ValueError("crediting_end must be after crediting_start")
        return self


class ProjectView(BaseModel):
    id: str
    program: str
    county: str
    title: str
    title_en: str | None
    description: str | None
    developer: str
    methodology: str
    methodology_version: int
    methodology_parameters: dict[str, Any]
    crediting_start: date
    crediting_end: date
    registry_account: str
    status: str
    notice_ends_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProjectPage(BaseModel):
    items: list[ProjectView]
    next_cursor: str | None


class TransitionRequest(Strict):
    comment: str | None = Field(default=None, max_length=5000)


class HistoryEntry(BaseModel):
    sequence: int
    type: str
    time: str
    actor: str
    data: dict[str, Any]


class DocumentView(BaseModel):
    id: str
    project_id: str
    report_id: str | None
    kind: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


class ParcelView(BaseModel):
    parcel_id: str
    name: str | None
    declared_area_ha: str
    computed_area_ha: str
    geometry: dict[str, Any]


class AddParcels(Strict):
    """A GeoJSON FeatureCollection; each feature's properties: parcel_id, area_ha, name?."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(min_length=1, max_length=20_000)


class ParcelsAddedView(BaseModel):
    project_id: str
    added: list[ParcelView]


class NoticeComment(Strict):
    author: str | None = Field(default=None, max_length=100, description="optional name")
    text: str = Field(min_length=1, max_length=5000)


class CommentView(BaseModel):
    id: str
    project_id: str
    author: str | None
    text: str
    created_at: datetime


class SubmitReport(Strict):
    period_start: date
    period_end: date
    activity: list[dict[str, Any]] = Field(
        min_length=1, description="one row per parcel: parcel_id and the methodology's columns"
    )

    @model_validator(mode="after")
    def period_in_order(self) -> SubmitReport:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        return self


class ReportView(BaseModel):
    id: str
    project_id: str
    period_start: date
    period_end: date
    vintage: int
    status: str
    methodology: str
    methodology_version: int
    baseline_tco2e: str
    project_tco2e: str
    leakage_tco2e: str
    deductions: dict[str, str]
    net_tco2e: str
    submitted_at: datetime
    verified_tco2e: str | None = None
    verifier: str | None = None
    statement_document: str | None = None
    approval_id: str | None = None
    issued_quantity: int | None = None
    buffer_quantity: int | None = None
    trace: list[dict[str, str]] | None = None
    parameters: dict[str, Any] | None = None


class ReportPage(BaseModel):
    items: list[ReportView]
    next_cursor: str | None


class VerifyReport(Strict):
    verified_tco2e: Decimal = Field(ge=0, max_digits=18, decimal_places=3)
    statement_document: str = Field(description="id of the uploaded verification_report")
    comment: str | None = Field(default=None, max_length=5000)


class ApproveReport(Strict):
    comment: str | None = Field(default=None, max_length=5000)
