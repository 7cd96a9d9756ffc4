"""Carbon points (碳积分): a ledger of whole points, apart from credits. 1 point = 1 kgCO2e.

Pure. A backed scheme mints only what its backing retirements cover — 1,000 points per retired
tonne — counting every point ever minted: redemption burns a point, it never frees its
kilogram. Transfers move points between holders and create none. An unbacked scheme (a pilot's
incentive points) mints freely and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

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
    name: str
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


def check_spender(scheme: Scheme, by: str | None, holder: str) -> None:
    """The holder spends its own points; the operator may on a holder's behalf (a person at
    its counter)."""
    if by != holder:
        scheme.check_operator(by)


Kind = Literal["mint", "transfer", "redemption"]


@dataclass(frozen=True, slots=True)
class Change:
    """What one mint, transfer or redemption does: each holder's delta, and the points it
    adds to the scheme's minted (a mint) or redeemed (a redemption) total."""

    scheme_id: str
    kind: Kind
    reference: str
    deltas: dict[str, int]
    points: int


@dataclass
class PointsLedger:
    """Schemes, balances and backings as far as they were read, and the decisions on them.

    A command's decision (`mint`, `transfer`, `redeem`, `add_backing`) checks everything and
    returns what would change, changing nothing; `apply` then makes the change. Live commands and
    `rebuild` both go through `apply`, so the state the log implies is derived one way. A
    scheme, balance or backing must be read before a decision looks at it (KeyError otherwise:
    a reading bug, never a user's error); a scheme read and not found is None."""

    schemes: dict[str, Scheme | None] = field(default_factory=dict)
    balances: dict[tuple[str, str], int] = field(default_factory=dict)
    backings: dict[str, str | None] = field(default_factory=dict)  # retirement → scheme

    def scheme(self, scheme_id: str) -> Scheme:
        scheme = self.schemes[scheme_id]
        if scheme is None:
            raise UnknownScheme(f"no points scheme {scheme_id}")
        return scheme

    def balance(self, scheme_id: str, holder: str) -> int:
        return self.balances[(scheme_id, holder)]

    # -- decisions ---------------------------------------------------------------------------

    def mint(self, scheme_id: str, by: str | None, to: str, points: int, reference: str) -> Change:
        scheme = self.scheme(scheme_id)
        scheme.check_operator(by)
        scheme.check_mint(points)
        self.balance(scheme_id, to)  # read, so that `apply` can add to it
        return Change(scheme_id, "mint", reference, {to: points}, points)

    def transfer(
        self, scheme_id: str, by: str | None, source: str, target: str, points: int, reference: str
    ) -> Change:
        if source == target:
            raise SameHolder()
        scheme = self.scheme(scheme_id)
        check_spender(scheme, by, source)
        check_spend(self.balance(scheme_id, source), points)
        self.balance(scheme_id, target)
        return Change(scheme_id, "transfer", reference, {source: -points, target: points}, points)

    def redeem(
        self, scheme_id: str, by: str | None, holder: str, points: int, reference: str
    ) -> Change:
        scheme = self.scheme(scheme_id)
        check_spender(scheme, by, holder)
        check_spend(self.balance(scheme_id, holder), points)
        return Change(scheme_id, "redemption", reference, {holder: -points}, points)

    def check_backing(self, scheme_id: str, retirement: str, owner: str, purpose: str) -> None:
        """`retirement` (owned by `owner`, with `purpose`) as a new backing of the scheme."""
        self.scheme(scheme_id).check_backing(owner, purpose)
        if (used_by := self.backings[retirement]) is not None:
            raise BackingUsed(f"{retirement} backs {used_by}")

    # -- changes -----------------------------------------------------------------------------

    def create(self, scheme: Scheme) -> None:
        self.schemes[scheme.id] = scheme

    def add_backing(self, scheme_id: str, retirement: str, points: int) -> None:
        scheme = self.scheme(scheme_id)
        self.schemes[scheme_id] = replace(scheme, backing_points=scheme.backing_points + points)
        self.backings[retirement] = scheme_id

    def apply(self, change: Change) -> None:
        balances = self.balances
        for holder, delta in change.deltas.items():
            key = (change.scheme_id, holder)
            balances[key] = balances.get(key, 0) + delta
        scheme = self.scheme(change.scheme_id)
        if change.kind == "mint":
            self.schemes[scheme.id] = replace(scheme, minted=scheme.minted + change.points)
        elif change.kind == "redemption":
            self.schemes[scheme.id] = replace(scheme, redeemed=scheme.redeemed + change.points)
