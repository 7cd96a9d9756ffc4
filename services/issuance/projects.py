"""Project use cases: create, lifecycle transitions, public-notice comments.

Each command runs in one writer transaction: it locks the project row, checks the state,
appends its event and updates the projection, all or nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.events.contract.issuance import NoticeCommentReceived, ProjectCreated, ProjectTransitioned
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.auth import Principal
from services.issuance import access, parcels, store
from services.issuance.domain import methodologies
from services.issuance.domain.errors import (
    IllegalTransition,
    InvalidParameters,
    NoticeNotOver,
    PreconditionMissing,
    UnknownProject,
)
from services.issuance.domain.lifecycle import Transition, transition_for
from services.issuance.lookup import locked, stream
from services.issuance.schemas import CommentView, CreateProject, NoticeComment, ProjectView


async def create(tx: EventTransaction, developer: str, body: CreateProject) -> ProjectView:
    methodology = methodologies.get(body.methodology, body.methodology_version)
    unknown = set(body.methodology_parameters) - methodology.settings_fields()
    if unknown:
        errors = [
            {"parameter": name, "message": "not a project-level parameter"}
            for name in sorted(unknown)
        ]
        raise InvalidParameters(f"unknown parameters: {', '.join(sorted(unknown))}", errors=errors)
    _check_settings(methodology, body.methodology_parameters)
    project_id = await store.next_project_id(tx, body.county)
    now = datetime.now(UTC)
    project = ProjectView(
        id=project_id,
        program=body.program,
        county=body.county,
        title=body.title,
        title_en=body.title_en,
        description=body.description,
        developer=developer,
        methodology=methodology.id,
        methodology_version=methodology.version,
        methodology_parameters=body.methodology_parameters,
        crediting_start=body.crediting_start,
        crediting_end=body.crediting_end,
        registry_account=body.registry_account,
        status="draft",
        notice_ends_at=None,
        created_at=now,
        updated_at=now,
    )
    fields = project.model_dump(
        mode="json", exclude={"id", "status", "notice_ends_at", "created_at", "updated_at"}
    )
    event = ProjectCreated(project_id=project_id, **fields)
    await tx.append(stream(project_id), 0, [event])
    await store.insert_project(tx, project)
    return project


def _check_settings(methodology: methodologies.Plugin, settings: dict[str, object]) -> None:
    """Project-level parameters are validated now, not at the first monitoring report: every
    error except the (absent) strata is reported."""
    try:
        methodology.parse({**settings, "strata": []})
    except InvalidParameters as problem:
        errors = [
            e for e in problem.extensions["errors"] if not e["parameter"].startswith("strata")
        ]
        if errors:
            names = ", ".join(e["parameter"] for e in errors)
            raise InvalidParameters(f"invalid parameters: {names}", errors=errors) from None


async def transition(
    tx: EventTransaction,
    principal: Principal,
    project_id: str,
    action: str,
    comment: str | None,
    notice: timedelta,
) -> ProjectView:
    project = await locked(tx, principal, project_id)
    step = transition_for(action, project.status)
    _authorise(principal, project, step)
    now = datetime.now(UTC)
    notice_ends_at = await _guard(tx, project, step, now, notice)
    event = ProjectTransitioned(
        project_id=project_id,
        action=action,
        from_status=project.status,
        to_status=step.target,
        comment=comment,
        notice_ends_at=notice_ends_at.isoformat() if notice_ends_at else None,
    )
    await tx.append(stream(project_id), ANY_VERSION, [event])
    await store.set_status(tx, project_id, step.target, notice_ends_at, now)
    update = {"status": step.target, "updated_at": now}
    if notice_ends_at:
        update["notice_ends_at"] = notice_ends_at
    return project.model_copy(update=update)


def _authorise(principal: Principal, project: ProjectView, step: Transition) -> None:
    if step.by_developer:
        access.require_developer(principal, project)
    elif step.roles:
        access.require_body(principal, project, *step.roles)
    else:
        access.require_body(principal, project, "registry_admin")


async def _guard(
    tx: EventTransaction, project: ProjectView, step: Transition, now: datetime, notice: timedelta
) -> datetime | None:
    """The preconditions of each step; returns the notice end when the notice opens."""
    if step.action in ("submit", "resubmit"):
        if not await store.has_document(tx, project.id, "project_design"):
            raise PreconditionMissing("upload the project design document (kind project_design)")
        if not await store.parcel_areas(tx, project.id):
            raise PreconditionMissing("add the project's parcels first")
    elif step.action == "validate":
        if not await store.has_document(tx, project.id, "validation_report"):
            raise PreconditionMissing("upload the validation report (kind validation_report)")
    elif step.action == "start_notice":
        await parcels.check_project_against_protected(tx, project)
        return now + notice
    elif step.action == "register":
        assert project.notice_ends_at is not None
        if now < project.notice_ends_at:
            raise NoticeNotOver(
                f"the public notice ends at {project.notice_ends_at.isoformat()}",
                notice_ends_at=project.notice_ends_at.isoformat(),
            )
    return None


async def comment(tx: EventTransaction, project_id: str, body: NoticeComment) -> CommentView:
    project = await store.get_project(tx, project_id, for_update=True)
    if project is None or project.status not in ("public_notice", "registered"):
        raise UnknownProject()
    now = datetime.now(UTC)
    if project.status != "public_notice" or (
        project.notice_ends_at and now >= project.notice_ends_at
    ):
        raise IllegalTransition(
            "comments are taken only during the public notice", current_status=project.status
        )
    comment_id = f"CMT-{await store.next_number(tx, 'comment_numbers'):06d}"
    view = CommentView(
        id=comment_id, project_id=project_id, author=body.author, text=body.text, created_at=now
    )
    event = NoticeCommentReceived(
        project_id=project_id, comment_id=comment_id, author=body.author, text=body.text
    )
    await tx.append(stream(project_id), ANY_VERSION, [event])
    await store.insert_comment(tx, view)
    return view
