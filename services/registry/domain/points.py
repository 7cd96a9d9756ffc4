"""Carbon points (碳积分): a ledger of whole points, apart from credits. 1 point = 1 kgCO2e.

Pure. A backed scheme mints only what its backing retirements cover — 1,000 points per retired
tonne — counting every point ever minted: redemption burns a point, it never frees its
kilogram. Transfers move points between holders and create none. An unbacked scheme (a pilot's
incentive points) mints freely and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.problems import Problem

POINTS_PER_TONNE = 1_000


class UnknownScheme(Problem):
    status, slug, title = 404, "unknown-points-scheme", "Unknown points scheme"


class NotTheOperator(Problem):
    status, slug, title = 403, "not-the-operator", "Only the scheme's operator may do this"


class BackingExceeded(Problem):
    status, slug, title = (
        409,
        "points-backing-exceeded",
        "The scheme's backing does not cover these points",
    )


class InsufficientPoints(Problem):
    status, slug, title = 409, "insufficient-points", "The holder has fewer points"


class SchemeNotBacked(Problem):
    status, slug, title = 409, "scheme-not-backed", "An unbacked scheme takes no backing"


class BackingNotEligible(Problem):
    status, slug, title = (
        409,
        "backing-not-eligible",
        "A backing is the operator's retirement with purpose points_backing",
    )


class BackingUsed(Problem):
    status, slug, title = 409, "backing-used", "This retirement already backs a scheme"


class SameHolder(Problem):
    status, slug, title = 422, "same-holder", "A transfer goes to another holder"


@dataclass(frozen=True)
class Scheme:
    id: str
    operator: str
    backed: bool
    backing_points: int
    minted: int
    redeemed: int

    @property
    def outstanding(self) -> int:
        return self.minted - self.redeemed

    def check_operator(self, org: str | None) -> None:
        if org != self.operator:
            raise NotTheOperator(f"{self.id} is run by {self.operator}")

    def check_mint(self, points: int) -> None:
        if self.backed and self.minted + points > self.backing_points:
            left = self.backing_points - self.minted
            raise BackingExceeded(f"{left} points of backing left", backing_left=left)

    def check_backing(self, retirement_owner: str, purpose: str) -> None:
        if not self.backed:
            raise SchemeNotBacked()
        if retirement_owner != self.operator or purpose != "points_backing":
            raise BackingNotEligible(
                f"the retirement is {retirement_owner}'s with purpose {purpose}"
            )


def backing_points(tonnes: int) -> int:
    return tonnes * POINTS_PER_TONNE


def check_spend(balance: int, points: int) -> None:
    """A transfer or redemption of `points` from a holder with `balance`."""
    if points > balance:
        raise InsufficientPoints(f"{balance} points held, {points} asked", balance=balance)
