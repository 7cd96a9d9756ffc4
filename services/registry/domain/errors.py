"""Registry problems with stable type URIs (DESIGN §7; issue: errors)."""

from __future__ import annotations

from libs.servicekit.problems import Problem


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
