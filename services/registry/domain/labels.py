"""Carbon labels (碳标签): a product batch's offset claim, backed by retired tonnes.

Pure. A label claims `units_covered` × `offset_kg_per_unit` kilograms of one retirement
(purpose `carbon_label`, the caller's own); a retirement backs several labels until its tonnes
× 1,000 kg are claimed, never more. Kilograms are Decimal: a claim per unit is often a fraction.
"""

from __future__ import annotations

from decimal import Decimal

from libs.problems import Problem

KG_PER_TONNE = 1_000


class UnknownLabel(Problem):
    status, slug, title = 404, "unknown-label", "Unknown carbon label"


class LabelNotEligible(Problem):
    status, slug, title = (
        409,
        "label-not-eligible",
        "A label is backed by your own retirement with purpose carbon_label",
    )


class LabelOverClaimed(Problem):
    status, slug, title = (
        409,
        "label-over-claimed",
        "The retirement does not cover this claim",
    )


class LabelRevokedAlready(Problem):
    status, slug, title = 409, "label-revoked", "The label was revoked"


class InvalidLabel(Problem):
    status, slug, title = 422, "invalid-label", "The label's terms are not valid"


def claim_kg(units_covered: int, offset_kg_per_unit: Decimal) -> Decimal:
    return units_covered * offset_kg_per_unit


def check_backing(purpose: str, retirement_owner: str, caller: str | None) -> None:
    if purpose != "carbon_label" or retirement_owner != caller:
        raise LabelNotEligible(f"the retirement is {retirement_owner}'s, purpose {purpose}")


def check_claim(claim: Decimal, tonnes: int, claimed_before: Decimal) -> None:
    """Raise unless the retirement's tonnes still cover `claim` kg."""
    left = tonnes * KG_PER_TONNE - claimed_before
    if claim > left:
        raise LabelOverClaimed(f"{claim} kg claimed, {left} kg left", left_kg=str(left))
