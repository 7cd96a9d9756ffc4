"""Who may read or act on a project: one place for the rules (docs/rest.md).

Projects under public notice or registered are public. Before that, only the developer's
organisation and the platform's roles see them — for anyone else the project does not exist
(404, never 403, so codes cannot be probed). Review, validation and verification bodies must be
independent of the developer.
"""

from __future__ import annotations

from libs.problems import Problem
from libs.servicekit.auth import Principal
from services.issuance.domain.errors import NotIndependent, RoleRequired, UnknownProject
from services.issuance.domain.lifecycle import PUBLIC
from services.issuance.schemas import ProjectView

READ_ALL_ROLES = ("registry_admin", "reviewer", "validator", "regulator", "auditor")


def is_developer(principal: Principal, project: ProjectView) -> bool:
    return principal.org == project.developer and principal.has_any("developer")


def visible(principal: Principal, project: ProjectView | None) -> ProjectView:
    if project is None:
        raise UnknownProject()
    if project.status in PUBLIC or principal.has_any(*READ_ALL_ROLES):
        return project
    if principal.org is not None and principal.org == project.developer:
        return project
    raise UnknownProject()


def visible_through(principal: Principal, project: ProjectView | None, missing: Problem) -> None:
    """A report or document is visible when its project is; otherwise it is `missing` (404)."""
    try:
        visible(principal, project)
    except UnknownProject:
        raise missing from None


def require_developer(principal: Principal, project: ProjectView) -> None:
    """The project's own organisation acting as developer (or registry_admin)."""
    if not (is_developer(principal, project) or principal.has_any("registry_admin")):
        raise RoleRequired(f"only the developer {project.developer} may do this")


def require_body(principal: Principal, project: ProjectView, *roles: str) -> None:
    """A reviewing body holding one of `roles`, independent of the developer."""
    if principal.has_any("registry_admin"):
        return
    if not principal.has_any(*roles):
        raise RoleRequired(f"requires one of the roles: {', '.join(roles)}")
    if principal.org == project.developer:
        raise NotIndependent(f"{principal.org} is the developer of {project.id}")
