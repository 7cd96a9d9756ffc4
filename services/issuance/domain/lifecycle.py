"""Project lifecycle (docs/domain.md): which action moves which state, and who may take it.

draft → submitted (申报) → under_review (审核) → changes_requested ↺ | rejected
      → validated (审定) → public_notice (公示) → registered (备案/登记)
"""

from __future__ import annotations

from dataclasses import dataclass

from services.issuance.domain.errors import IllegalTransition

STATUSES = (
    "draft",
    "submitted",
    "under_review",
    "changes_requested",
    "rejected",
    "validated",
    "public_notice",
    "registered",
)
# While a project is in these states its developer may still add parcels and documents.
EDITABLE = frozenset({"draft", "changes_requested"})
# Parcels of projects in these states are protected against double counting.
PROTECTED = frozenset({"public_notice", "registered"})
# Anyone may read a project in these states (public notice and the register are public).
PUBLIC = PROTECTED


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: tuple[str, ...]  # any of these roles may take the action (registry_admin: always)
    by_developer: bool = False  # only the project's own organisation (developer role)
    summary: str = ""


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("submit", frozenset({"draft"}), "submitted", ("developer",), True,
                   "Submit for review 申报 (developer)"),
        Transition("resubmit", frozenset({"changes_requested"}), "submitted", ("developer",), True,
                   "Resubmit after changes (developer)"),
        Transition("start_review", frozenset({"submitted"}), "under_review", ("reviewer",),
                   summary="Start the review 审核 (reviewer)"),
        Transition("request_changes", frozenset({"under_review"}), "changes_requested",
                   ("reviewer", "validator"), summary="Ask the developer for changes"),
        Transition("reject", frozenset({"under_review"}), "rejected", ("reviewer", "validator"),
                   summary="Reject the project (terminal)"),
        Transition("validate", frozenset({"under_review"}), "validated", ("validator",),
                   summary="Validate 审定 (validation body; needs its validation report)"),
        Transition("start_notice", frozenset({"validated"}), "public_notice", (),
                   summary="Open the public notice 公示 (registry_admin)"),
        Transition("register", frozenset({"public_notice"}), "registered", (),
                   summary="Register 备案 after the notice period (registry_admin)"),
    )
}  # fmt: skip


def transition_for(action: str, status: str) -> Transition:
    """The transition, or a 409 naming the current state when it does not apply."""
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        allowed = ", ".join(sorted(transition.sources))
        raise IllegalTransition(
            f"cannot {action} a project that is {status} (only from {allowed})",
            current_status=status,
        )
    return transition
