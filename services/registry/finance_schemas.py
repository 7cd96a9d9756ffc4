"""Request and response models of carbon finance and its derivatives (docs/rest.md): carbon
points, carbon labels, pledges over a project's future issuances."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from services.registry.domain.serials import PROJECT_PATTERN
from services.registry.schemas import MAX_QUANTITY, Strict

# -- carbon points 碳积分 -------------------------------------------------------------------

HOLDER = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"  # an organisation, or a person's id at the operator
MAX_POINTS = 10**12


class CreatePointsScheme(Strict):
    name: str = Field(min_length=1, max_length=200)
    operator: str = Field(pattern=HOLDER, description="the organisation that mints and redeems")
    backed: bool = Field(description="mints only what retired tonnes back (1,000 points a tonne)")


class AddPointsBacking(Strict):
    retirement_id: str = Field(min_length=1, max_length=100)


class MintPoints(Strict):
    scheme: str = Field(min_length=1, max_length=100)
    to: str = Field(pattern=HOLDER)
    points: int = Field(gt=0, le=MAX_POINTS)
    reason: str = Field(min_length=1, max_length=500, description="the low-carbon action credited")


class TransferPoints(Strict):
    scheme: str = Field(min_length=1, max_length=100)
    from_: str = Field(alias="from", pattern=HOLDER)
    to: str = Field(pattern=HOLDER)
    points: int = Field(gt=0, le=MAX_POINTS)


class RedeemPoints(Strict):
    scheme: str = Field(min_length=1, max_length=100)
    holder: str = Field(pattern=HOLDER)
    points: int = Field(gt=0, le=MAX_POINTS)
    item: str = Field(min_length=1, max_length=500, description="what the points bought")


class PointsSchemeView(BaseModel):
    id: str
    name: str
    operator: str
    backed: bool
    backing_points: int = Field(description="1,000 per tonne of its backing retirements")
    minted: int
    redeemed: int
    outstanding: int = Field(description="minted less redeemed: what holders hold")


class PointsMovement(BaseModel):
    """A mint, transfer or redemption as recorded (its log sequence)."""

    id: str
    scheme: str
    kind: Literal["mint", "transfer", "redemption"]
    points: int
    sequence: int


class PointsEntry(BaseModel):
    sequence: int
    delta: int
    kind: str
    reference: str


class PointsStatement(BaseModel):
    scheme: str
    holder: str
    balance: int
    entries: list[PointsEntry]
    next_cursor: str | None


# -- carbon labels 碳标签 --------------------------------------------------------------------

KG = Annotated[Decimal, Field(max_digits=18, decimal_places=6)]


class IssueLabel(Strict):
    product: str = Field(min_length=1, max_length=200)
    product_batch: str = Field(min_length=1, max_length=100)
    functional_unit: str = Field(
        min_length=1, max_length=100, examples=["一瓶 500 mL / a 500 mL bottle"]
    )
    units_covered: int = Field(gt=0, le=MAX_QUANTITY)
    footprint_kg_per_unit: KG = Field(description="assessed footprint; negative for a net sink")
    offset_kg_per_unit: KG = Field(gt=0, description="what the retirement covers per unit")
    valid_from: date
    valid_to: date
    retirement_id: str = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _valid_period(self) -> IssueLabel:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class RevokeLabel(Strict):
    reason: str = Field(min_length=1, max_length=500)


class LabelView(BaseModel):
    code: str = Field(description="the public, unguessable code (the verification page's)")
    retirement_id: str
    owner: str
    product: str
    product_batch: str
    functional_unit: str
    units_covered: int
    footprint_kg_per_unit: str
    offset_kg_per_unit: str
    claimed_kg: str
    valid_from: date
    valid_to: date
    status: Literal["active", "revoked"]
    revoked_reason: str | None


# -- pledges over a project's future issuances 质押 -----------------------------------------


class PledgeProject(Strict):
    project: str = Field(pattern=f"^{PROJECT_PATTERN}$")
    account: str = Field(min_length=1, max_length=100, description="where its issuances arrive")
    lender: str = Field(min_length=1, max_length=100, description="the lending organisation")
    lender_account: str = Field(
        min_length=1, max_length=100, description="enforcement delivers here"
    )
    share_percent: int | None = Field(default=None, gt=0, le=100, description="of each issuance")
    quantity: int | None = Field(default=None, gt=0, le=MAX_QUANTITY, description="t in all")
    registration_ref: str = Field(min_length=1, max_length=100, description="中登网登记编号")
    loan_amount: int = Field(gt=0, le=10**15, description="fen")
    expires_at: datetime

    @model_validator(mode="after")
    def _share_or_quantity(self) -> PledgeProject:
        if self.share_percent is None and self.quantity is None:
            raise ValueError("give share_percent, quantity, or both (a share up to a quantity)")
        return self


class ProjectPledgeView(BaseModel):
    id: str
    project: str
    account: str
    lender: str
    lender_account: str
    share_percent: int | None
    quantity: int | None
    pledged: int = Field(description="t put under pledge holds so far")
    registration_ref: str
    loan_amount: int
    expires_at: datetime
    status: Literal["active", "released", "enforced"]
