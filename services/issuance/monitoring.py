"""Monitoring → verification → issuance approval (docs/domain.md).

A report covers one period of a registered project (periods never overlap), carries activity
data per parcel, and is quantified with the project's methodology version at submission. A
verification body states the verified net (≤ the claim); a registry administrator approves,
which emits `IssuanceApproved` for the registry:

- tradable units = floor(verified net) — to the developer's registry account;
- buffer units = floor(buffer deduction × verified / claimed net) — to the program's buffer;
- `quantity` = tradable + buffer (the event's contract: buffer included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from libs.events.contract.issuance import (
    IssuanceApproved,
    MonitoringReportSubmitted,
    MonitoringReportVerified,
)
from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from services.issuance import access, reports_store, store
from services.issuance.domain import methodologies
from services.issuance.domain.activity import strata_from_file, strata_from_rows
from services.issuance.domain.errors import (
    IllegalTransition,
    InvalidPeriod,
    PeriodOverlap,
    ReportStateConflict,
    UnknownDocument,
    UnknownReport,
    VerifiedAboveClaimed,
)
from services.issuance.lookup import locked
from services.issuance.schemas import ProjectView, ReportView, VerifyReport


def stream(report_id: str) -> str:
    return f"report/{report_id}"


async def submit(
    tx: EventTransaction,
    principal: Principal,
    project_id: str,
    period: tuple[date, date],
    rows: Sequence[Mapping[str, Any]],
    from_file: bool,
) -> ReportView:
    project = await locked(tx, principal, project_id)
    access.require_developer(principal, project)
    start, end = period
    _check_reportable(project, start, end)
    earlier = await reports_store.overlapping_report(tx, project_id, start, end)
    if earlier:
        raise PeriodOverlap(f"the period overlaps report {earlier}", report=earlier)
    methodology = methodologies.get(project.methodology, project.methodology_version)
    build = strata_from_file if from_file else strata_from_rows
    parcel_ids, strata = build(methodology, rows, await store.parcel_areas(tx, project_id))
    parameters = {**project.methodology_parameters, "strata": strata}
    quantification = methodology.evaluate(parameters)
    report = ReportView(
        id=f"MR-{await store.next_number(tx, 'report_numbers'):06d}",
        project_id=project_id,
        period_start=start,
        period_end=end,
        vintage=end.year,
        status="submitted",
        methodology=methodology.id,
        methodology_version=methodology.version,
        submitted_at=datetime.now(UTC),
        **quantification.as_dict(with_trace=False),
    )
    fields = report.model_dump(mode="json", include=_SUBMITTED_FIELDS)
    event = MonitoringReportSubmitted(
        report_id=report.id, parameters=parameters, parcel_ids=parcel_ids, **fields
    )
    await tx.append(stream(report.id), 0, [event])
    buffer = quantification.deductions.get("buffer", Decimal(0))
    await reports_store.insert_report(tx, report, parameters, quantification.as_dict(), buffer)
    return report


# The report's fields that `MonitoringReportSubmitted` carries as they are.
_SUBMITTED_FIELDS = set(MonitoringReportSubmitted.model_fields) - {
    "report_id",
    "parameters",
    "parcel_ids",
}


def _check_reportable(project: ProjectView, start: date, end: date) -> None:
    if project.status != "registered":
        raise IllegalTransition(
            f"monitoring reports are for registered projects; {project.id} is {project.status}",
            current_status=project.status,
        )
    if start < project.crediting_start or end > project.crediting_end:
        raise InvalidPeriod(
            f"the period must lie within the crediting period {project.crediting_start}"
            f" – {project.crediting_end}"
        )


async def _locked_report(
    tx: EventTransaction, principal: Principal, report_id: str
) -> tuple[ReportView, ProjectView]:
    """The report and its project, both locked; 404 unless the caller may see the project."""
    report = await reports_store.get_report(tx, report_id, for_update=True)
    if report is None:
        raise UnknownReport()
    return report, await locked(tx, principal, report.project_id)


def _expect(report: ReportView, status: str) -> None:
    if report.status != status:
        raise ReportStateConflict(
            f"report {report.id} is {report.status}, not {status}", current_status=report.status
        )


async def verify(
    tx: EventTransaction, principal: Principal, report_id: str, body: VerifyReport
) -> ReportView:
    report, project = await _locked_report(tx, principal, report_id)
    access.require_body(principal, project, "verifier")
    _expect(report, "submitted")
    claimed = Decimal(report.net_tco2e)
    if body.verified_tco2e > claimed:
        raise VerifiedAboveClaimed(
            f"verified {body.verified_tco2e} tCO2e exceeds the claimed {claimed} tCO2e"
        )
    document = await store.get_document(tx, body.statement_document)
    if (
        document is None
        or document.report_id != report_id
        or document.kind != "verification_report"
    ):
        raise UnknownDocument(
            f"{body.statement_document} is not a verification_report of report {report_id}"
        )
    verified = body.verified_tco2e.quantize(Decimal("0.001"))
    event = MonitoringReportVerified(
        report_id=report_id,
        project_id=report.project_id,
        verifier=principal.actor,
        verified_tco2e=str(verified),
        statement_document=document.id,
        comment=body.comment,
    )
    now = datetime.now(UTC)
    await tx.append(stream(report_id), 1, [event])
    await reports_store.set_verified(tx, report_id, verified, principal.actor, document.id, now)
    return report.model_copy(
        update={
            "status": "verified",
            "verified_tco2e": str(verified),
            "verifier": principal.actor,
            "statement_document": document.id,
        }
    )


def issuable_units(verified: Decimal, claimed: Decimal, buffer: Decimal) -> tuple[int, int]:
    """(tradable, buffer) whole tonnes; each floored, never rounded up."""
    tradable = int(verified.to_integral_value(rounding=ROUND_FLOOR))
    if claimed <= 0 or buffer <= 0:
        return tradable, 0
    return tradable, math.floor(buffer * verified / claimed)


async def approve(
    tx: EventTransaction, principal: Principal, report_id: str, comment: str | None
) -> ReportView:
    report, project = await _locked_report(tx, principal, report_id)
    _expect(report, "verified")
    assert report.verified_tco2e is not None
    buffer_claimed = await reports_store.report_buffer(tx, report_id)
    tradable, buffer = issuable_units(
        Decimal(report.verified_tco2e), Decimal(report.net_tco2e), buffer_claimed
    )
    if tradable + buffer == 0:
        raise ReportStateConflict(
            "the verified reductions are below one whole tonne: nothing to issue"
        )
    approval_id = f"APR-{report_id}"
    event = IssuanceApproved(
        approval_id=approval_id,
        program=project.program,  # type: ignore[arg-type]
        project=project.id,
        vintage=report.vintage,
        quantity=tradable + buffer,
        buffer_quantity=buffer,
        account=project.registry_account,
        monitoring_period=f"{report.period_start.isoformat()}/{report.period_end.isoformat()}",
        comment=comment,
    )
    await tx.append(stream(report_id), 2, [event])
    await reports_store.set_approved(
        tx, report_id, approval_id, tradable + buffer, buffer, datetime.now(UTC)
    )
    return report.model_copy(
        update={
            "status": "approved",
            "approval_id": approval_id,
            "issued_quantity": tradable + buffer,
            "buffer_quantity": buffer,
        }
    )
