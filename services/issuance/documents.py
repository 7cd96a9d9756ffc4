"""Documents: files stored with their SHA-256, attached to a project (or one of its reports).

Which body may attach which kind, and when:
- developer (own project, while draft or changes_requested): project_design, monitoring_plan, other
- validator (independent, project under_review): validation_report
- verifier (independent, report submitted): verification_report, with the report's id
registry_admin may attach any kind at any time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from libs.events.contract.issuance import DocumentAttached
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.auth import Principal
from libs.servicekit.files import sha256_of
from services.issuance import access, reports_store, store
from services.issuance.domain.errors import (
    IllegalTransition,
    InvalidDocument,
    ReportStateConflict,
    UnknownReport,
)
from services.issuance.lookup import locked, require_editable, stream
from services.issuance.schemas import DocumentView, ProjectView

MAX_FILENAME = 200


async def attach(
    tx: EventTransaction,
    principal: Principal,
    project_id: str,
    kind: str,
    filename: str,
    media_type: str,
    content: bytes,
    report_id: str | None,
) -> DocumentView:
    if not content:
        raise InvalidDocument("the file is empty")
    if not filename or len(filename) > MAX_FILENAME or "/" in filename or "\\" in filename:
        raise InvalidDocument("a file name of 1–200 characters without path separators")
    project = await locked(tx, principal, project_id)
    await _authorise(tx, principal, project, kind, report_id)
    document = DocumentView(
        id=f"DOC-{await store.next_number(tx, 'document_numbers'):06d}",
        project_id=project_id,
        report_id=report_id,
        kind=kind,
        filename=filename,
        media_type=media_type or "application/octet-stream",
        size=len(content),
        sha256=sha256_of(content),
        uploaded_by=principal.actor,
        created_at=datetime.now(UTC),
    )
    event = DocumentAttached(
        document_id=document.id,
        project_id=project_id,
        report_id=report_id,
        kind=kind,
        filename=filename,
        media_type=document.media_type,
        size=document.size,
        sha256=document.sha256,
    )
    await tx.append(stream(project_id), ANY_VERSION, [event])
    await store.insert_document(tx, document, content)
    return document


async def _authorise(
    tx: EventTransaction,
    principal: Principal,
    project: ProjectView,
    kind: str,
    report_id: str | None,
) -> None:
    if kind == "verification_report":
        if report_id is None:
            raise InvalidDocument("a verification_report names its monitoring report (report_id)")
        access.require_body(principal, project, "verifier")
        report = await reports_store.get_report(tx, report_id)
        if report is None or report.project_id != project.id:
            raise UnknownReport()
        if report.status != "submitted":
            raise ReportStateConflict(
                f"report {report_id} is {report.status}", current_status=report.status
            )
        return
    if report_id is not None:
        raise InvalidDocument("only a verification_report names a monitoring report")
    if kind == "validation_report":
        access.require_body(principal, project, "validator")
        if project.status != "under_review" and not principal.has_any("registry_admin"):
            raise IllegalTransition(
                f"validation reports are filed while the project is under_review, not {project.status}",
                current_status=project.status,
            )
        return
    access.require_developer(principal, project)
    if not principal.has_any("registry_admin"):
        require_editable(project)
