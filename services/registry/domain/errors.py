"""Registry problems with stable type URIs (docs/rest.md; issue: errors)."""

from __future__ import annotations

from libs.problems import Problem


class UnknownAccount(Problem):
    status, slug, title = 404, "unknown-account", "Unknown account"


class BatchAlreadyIssued(Problem):
    status, slug, title = 409, "batch-already-issued", "This batch id was already issued"


class AccountFrozen(Problem):
    status, slug, title = 409, "account-frozen", "The account is frozen"


class InvalidIssuance(Problem):
    status, slug, title = 422, "invalid-issuance", "The issuance is not valid"


class OwnerNotAllowed(Problem):
    status, slug, title = (
        403,
        "owner-not-allowed",
        "You may open accounts only for your organisation",
    )


class InsufficientUnits(Problem):
    status, slug, title = 409, "insufficient-units", "Not enough available units"


class CriteriaMatchNothing(Problem):
    status, slug, title = 409, "criteria-match-nothing", "No available units match the criteria"


class UnitsUnavailable(Problem):
    status, slug, title = 409, "units-unavailable", "The named serial units are not available"


class MalformedSerialProblem(Problem):
    status, slug, title = 422, "malformed-serial", "Malformed serial number"


class SameAccount(Problem):
    status, slug, title = 422, "same-account", "Source and destination are the same account"


class UnknownTransfer(Problem):
    status, slug, title = 404, "unknown-transfer", "Unknown transfer"


class UnknownRetirement(Problem):
    status, slug, title = 404, "unknown-retirement", "Unknown retirement"


class AccountStatusUnchanged(Problem):
    status, slug, title = 409, "account-status-unchanged", "The account already has that status"


class UnknownHold(Problem):
    status, slug, title = 404, "unknown-hold", "Unknown hold"


class HoldNotActive(Problem):
    status, slug, title = 409, "hold-not-active", "The hold is no longer active"


class HoldNotAllowed(Problem):
    status, slug, title = 403, "hold-not-allowed", "You may not place this kind of hold"


class SameDayResale(Problem):
    status, slug, title = (
        409,
        "same-day-resale",
        "Units acquired through a trade today cannot be escrowed today",
    )


class ImportOverlaps(Problem):
    status, slug, title = 409, "import-overlaps", "These external serials were already imported"


class InvalidImport(Problem):
    status, slug, title = 422, "invalid-import", "The external serial range is not valid"
