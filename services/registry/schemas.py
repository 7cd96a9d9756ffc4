"""Request and response models of the registry API (docs/rest.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.registry.domain.serials import PROJECT_PATTERN

MAX_QUANTITY = 1_000_000_000
MAX_OPERATIONS = 10_000  # items of one bulk request


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAccount(Strict):
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Owning organisation; defaults to the caller's. Only registry_admin may "
        "open accounts for another organisation.",
    )
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["holding", "buffer"] = "holding"
    program: Literal["YRDPH", "CCER"] | None = None


class AccountView(BaseModel):
    id: str
    owner: str
    name: str
    kind: str
    program: str | None
    status: str


class IssueCredits(Strict):
    batch_id: str | None = Field(
        default=None, description="Only to re-assert a known id; otherwise computed"
    )
    program: Literal["YRDPH", "CCER"]
    project: str = Field(pattern=f"^{PROJECT_PATTERN}$", examples=["QP0007"])
    vintage: int = Field(ge=2000, le=2100)
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="Units in the batch, buffer included")
    account: str
    buffer_account: str | None = None
    buffer_quantity: int = Field(default=0, ge=0, le=MAX_QUANTITY)


class BlockView(BaseModel):
    serial: str
    batch_id: str
    start: int
    end: int
    quantity: int
    account: str
    state: str


class IssuanceView(BaseModel):
    batch_id: str
    blocks: list[BlockView]


class Criteria(Strict):
    program: Literal["YRDPH", "CCER"] | None = None
    vintage: int | None = Field(default=None, ge=2000, le=2100)
    project: str | None = Field(default=None, pattern=f"^{PROJECT_PATTERN}$")
    batch_id: str | None = None


class UnitSelection(Strict):
    """Either a quantity (selected by the rule of docs/domain.md, optionally within criteria) or
    exact serial blocks."""

    quantity: int | None = Field(default=None, gt=0, le=MAX_QUANTITY)
    serials: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    criteria: Criteria | None = None

    @model_validator(mode="after")
    def _quantity_or_serials(self) -> UnitSelection:
        if (self.quantity is None) == (self.serials is None):
            raise ValueError("give either quantity or serials")
        if self.serials is not None and self.criteria is not None:
            raise ValueError("criteria apply to a quantity, not to exact serials")
        return self


class TransferCredits(UnitSelection):
    from_account: str
    to_account: str


class TransferView(BaseModel):
    id: str
    from_account: str
    to_account: str
    quantity: int
    blocks: list[BlockView]


RetirementPurpose = Literal[
    "voluntary_offset",
    "carbon_neutral_event",
    "compliance_offset",
    "carbon_label",
    "points_backing",
    "eco_compensation",
]


class RetireCredits(UnitSelection):
    account: str
    beneficiary: str = Field(min_length=1, max_length=300)
    purpose: RetirementPurpose
    claim_period: str | None = Field(default=None, max_length=50, examples=["2025"])
    note: str | None = Field(default=None, max_length=1000)


class RetirementView(BaseModel):
    id: str
    account: str
    quantity: int
    beneficiary: str
    purpose: str
    claim_period: str | None
    note: str | None
    blocks: list[BlockView]
    certificate_url: str


class HoldingBlock(BaseModel):
    serial: str
    batch_id: str
    start: int
    end: int
    quantity: int
    vintage: int
    state: str
    hold_id: str | None = None


class HoldingsView(BaseModel):
    account: str
    total: int
    available: int
    held: int
    held_for: dict[str, int] = Field(
        default_factory=dict, description="held units by the hold's purpose: escrow, pledge, freeze"
    )
    blocks: list[HoldingBlock]


class FreezeAccount(Strict):
    reason: str = Field(min_length=1, max_length=500)


class AccountPage(BaseModel):
    items: list[AccountView]
    next_cursor: str | None


class PledgeTermsIn(Strict):
    registration_ref: str = Field(
        min_length=1, max_length=100, description="中登网登记编号: the pledge's registration"
    )
    loan_amount: int = Field(gt=0, le=10**15, description="fen lent against the units")
    matures_on: date


class PlaceHold(UnitSelection):
    account: str
    purpose: Literal["escrow", "pledge", "freeze"]
    holder: str = Field(min_length=1, max_length=100, description="market, lender or regulator org")
    expires_at: datetime | None = None
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the holder's reference (e.g. a listing or order id): "
        "GET /v1/holds?reference= finds the hold again",
    )
    pledge: PledgeTermsIn | None = Field(default=None, description="a pledge's loan terms")

    @model_validator(mode="after")
    def _terms_for_pledges_only(self) -> PlaceHold:
        if self.pledge is not None and self.purpose != "pledge":
            raise ValueError("loan terms belong to a pledge")
        return self


class ExecuteHold(Strict):
    to_account: str
    quantity: int | None = Field(default=None, gt=0, le=MAX_QUANTITY, description="default: all")
    keep_held: bool = Field(
        default=False,
        description="deliver the units still held by the same holder, under a new hold "
        "(`delivered_hold_id`): delivery versus payment keeps them there until the cash is final",
    )


class HoldView(BaseModel):
    id: str
    account: str
    purpose: str
    holder: str
    status: str
    quantity: int
    reference: str | None = None
    pledge: PledgeTermsIn | None = None
    expires_at: datetime | None
    delivered_hold_id: str | None = Field(
        default=None, description="execute with keep_held: the hold the units are under now"
    )
    blocks: list[BlockView]


class HoldSummary(BaseModel):
    id: str
    account: str
    purpose: str
    holder: str
    status: str
    quantity: int
    reference: str | None


class CancelCredits(UnitSelection):
    account: str
    reason: Literal["reversal", "correction", "export"]
    note: str | None = Field(default=None, max_length=1000)


class CancellationView(BaseModel):
    id: str
    account: str
    quantity: int
    reason: str
    blocks: list[BlockView]


class ImportCredits(Strict):
    source: str = Field(min_length=1, max_length=50, examples=["CCER-national"])
    external_start: str = Field(
        pattern=r"^[A-Za-z0-9-]*[0-9]+$",
        max_length=100,
        description="First external serial; its trailing digits are the unit number",
    )
    external_end: str = Field(pattern=r"^[A-Za-z0-9-]*[0-9]+$", max_length=100)
    project: str = Field(pattern=f"^{PROJECT_PATTERN}$")
    vintage: int = Field(ge=2000, le=2100)
    account: str


class ImportView(BaseModel):
    id: str
    batch_id: str
    source: str
    external_start: str
    external_end: str
    blocks: list[BlockView]


class BulkTransfer(TransferCredits):
    op: Literal["transfer"]


class BulkRetire(RetireCredits):
    op: Literal["retire"]


class BulkHold(PlaceHold):
    op: Literal["hold"]


class BulkRelease(Strict):
    op: Literal["release"]
    hold_id: str = Field(min_length=1, max_length=100)


class BulkExecute(ExecuteHold):
    op: Literal["execute"]
    hold_id: str = Field(min_length=1, max_length=100)


# One item of a bulk request: `op` names the operation, the rest is its usual body
# (`/v1/transfers`, `/v1/retirements`, `/v1/holds`, `/v1/holds/{id}/execute`; `release` and
# `execute` take `hold_id`). A tagged union: the whole request is validated in one pass, each
# item against its operation's model.
BulkOperation = Annotated[
    BulkTransfer | BulkRetire | BulkHold | BulkRelease | BulkExecute, Field(discriminator="op")
]


class BulkRequest(Strict):
    mode: Literal["atomic", "independent"]
    operations: list[BulkOperation] = Field(min_length=1, max_length=MAX_OPERATIONS)


class BulkItemResult(BaseModel):
    index: int
    status: int
    result: dict[str, object] | None = None
    problem: dict[str, object] | None = None


class BulkResponse(BaseModel):
    mode: str
    succeeded: int
    failed: int
    results: list[BulkItemResult]


class NoBody(Strict):
    pass
