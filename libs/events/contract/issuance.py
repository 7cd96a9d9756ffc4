"""Events of the issuance service (topic `tanhui.issuance`, source `tanhui/issuance`).

Streams: `project/<code>` (creation, transitions, documents, parcels, notice comments) and
`report/<id>` (monitoring report, verification, approval). Methodology quantities travel as
decimal strings; the inputs (parameters with every stratum) are in the log, so every
quantification can be recomputed from it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("issuance")

Program = Literal["YRDPH", "CCER"]


@catalog.event("ProjectCreated", version=1)
class ProjectCreated(EventPayload):
    project_id: str
    program: Program
    county: Literal["QP", "WJ", "JS"]
    title: str
    title_en: str | None = None
    description: str | None = None
    developer: str
    methodology: str
    methodology_version: int
    methodology_parameters: dict[str, Any]
    crediting_start: str
    crediting_end: str
    registry_account: str


@catalog.event("ProjectTransitioned", version=1)
class ProjectTransitioned(EventPayload):
    """One lifecycle step (docs/domain.md), with who did it (the envelope's actor) and why."""

    project_id: str
    action: str
    from_status: str
    to_status: str
    comment: str | None = None
    notice_ends_at: str | None = None


@catalog.event("DocumentAttached", version=1)
class DocumentAttached(EventPayload):
    """A file stored with its SHA-256; the bytes live in the `documents` table, the digest here."""

    document_id: str
    project_id: str
    report_id: str | None = None
    kind: str
    filename: str
    media_type: str
    size: Quantity
    sha256: str


class ParcelRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    parcel_id: str
    name: str | None = None
    geometry: dict[str, Any]
    declared_area_ha: str
    computed_area_ha: str


@catalog.event("ParcelsAdded", version=1)
class ParcelsAdded(EventPayload):
    project_id: str
    parcels: list[ParcelRecord]


@catalog.event("NoticeCommentReceived", version=1)
class NoticeCommentReceived(EventPayload):
    project_id: str
    comment_id: str
    author: str | None = None
    text: str


@catalog.event("MonitoringReportSubmitted", version=1)
class MonitoringReportSubmitted(EventPayload):
    report_id: str
    project_id: str
    period_start: str
    period_end: str
    vintage: Quantity
    methodology: str
    methodology_version: int
    parameters: dict[str, Any]
    parcel_ids: list[str]
    baseline_tco2e: str
    project_tco2e: str
    leakage_tco2e: str
    deductions: dict[str, str]
    net_tco2e: str


@catalog.event("MonitoringReportVerified", version=1)
class MonitoringReportVerified(EventPayload):
    report_id: str
    project_id: str
    verifier: str
    verified_tco2e: str
    statement_document: str
    comment: str | None = None


@catalog.event("IssuanceApproved", version=1)
class IssuanceApproved(EventPayload):
    """A registry administrator approved a verified monitoring report: the registry issues it.

    `quantity` is the whole tonnes of the verified net (floored), buffer included; `buffer_quantity`
    of it goes to the program's buffer account. `batch_id`, when given, is the id to issue under
    (so that a redelivered approval can never issue twice)."""

    approval_id: str
    program: Program
    project: str
    vintage: Quantity
    quantity: Quantity
    buffer_quantity: Quantity = 0
    account: str
    monitoring_period: str
    batch_id: str | None = None
    comment: str | None = None
