"""Loading a project for a command: locked for the transaction, visible to the caller."""

from __future__ import annotations

from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from services.issuance import access, store
from services.issuance.domain.errors import IllegalTransition
from services.issuance.domain.lifecycle import EDITABLE
from services.issuance.schemas import ProjectView


def stream(project_id: str) -> str:
    return f"project/{project_id}"


async def locked(tx: EventTransaction, principal: Principal, project_id: str) -> ProjectView:
    """The project row locked until commit (commands on one project serialise), or 404."""
    return access.visible(principal, await store.get_project(tx, project_id, for_update=True))


def require_editable(project: ProjectView) -> None:
    if project.status not in EDITABLE:
        raise IllegalTransition(
            f"the project is {project.status}; it can change only in draft or changes_requested",
            current_status=project.status,
        )
