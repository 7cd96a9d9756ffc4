"""Events of the registry (topic `tanhui.registry`, source `tanhui/registry`).

Every event that changes where units are carries `movements` (docs/domain.md), so an auditor can
recompute every unit's owner and state from the log without knowing each event type.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.events.catalog import EventCatalog, EventPayload, Quantity

catalog = EventCatalog("registry")

BlockState = Literal["available", "held", "retired", "cancelled"]


class Position(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str | None
    state: BlockState


class Movement(BaseModel):
    """Units `start..end` of a batch moved from one (account, state) to another."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    batch_id: str
    start: Quantity
    end: Quantity
    from_: Position | None = Field(default=None, alias="from")
    to: Position | None = None


@catalog.event("AccountOpened", version=1)
class AccountOpened(EventPayload):
    account_id: str
    owner: str
    name: str
    kind: Literal["holding", "buffer"]
    program: str | None = None


@catalog.event("AccountFrozen", version=1)
class AccountFrozen(EventPayload):
    account_id: str
    reason: str


@catalog.event("AccountUnfrozen", version=1)
class AccountUnfrozen(EventPayload):
    account_id: str
    reason: str


@catalog.event("CreditsIssued", version=1)
class CreditsIssued(EventPayload):
    batch_id: str
    program: str
    scope: str
    project: str
    vintage: Quantity
    start: Quantity
    end: Quantity
    quantity: Quantity
    account: str
    buffer_account: str | None = None
    buffer_quantity: Quantity = 0
    movements: list[Movement]


@catalog.event("CreditsTransferred", version=1)
class CreditsTransferred(EventPayload):
    transfer_id: str
    from_account: str
    to_account: str
    quantity: Quantity
    movements: list[Movement]


@catalog.event("CreditsRetired", version=1)
class CreditsRetired(EventPayload):
    retirement_id: str
    account: str
    quantity: Quantity
    beneficiary: str
    purpose: Literal[
        "voluntary_offset",
        "carbon_neutral_event",
        "compliance_offset",
        "carbon_label",
        "points_backing",
        "eco_compensation",
    ]
    claim_period: str | None = None
    note: str | None = None
    movements: list[Movement]


HoldPurpose = Literal["escrow", "pledge", "freeze"]


class PledgeTerms(BaseModel):
    """A pledge's loan: its registration at the national movable-property financing registry
    (中登网登记编号), the amount lent (fen) and the day it falls due."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    registration_ref: str
    loan_amount: Quantity
    matures_on: str  # ISO date


@catalog.event("HoldPlaced", version=1)
class HoldPlaced(EventPayload):
    hold_id: str
    account: str
    purpose: HoldPurpose
    holder: str
    expires_at: str | None = None
    reference: str | None = None  # the holder's own reference (a listing or order id)
    pledge: PledgeTerms | None = None  # a pledge's loan terms (added later: absent before)
    quantity: Quantity
    movements: list[Movement]


@catalog.event("HoldReleased", version=1)
class HoldReleased(EventPayload):
    hold_id: str
    reason: Literal["released", "expired"]
    quantity: Quantity
    movements: list[Movement]


@catalog.event("HoldExecuted", version=1)
class HoldExecuted(EventPayload):
    """Held units delivered to `to_account`: available there, or — with `delivered_hold_id` —
    still held there by the same holder under that new hold (delivery versus payment)."""

    hold_id: str
    to_account: str
    quantity: Quantity
    remaining: Quantity
    delivered_hold_id: str | None = None
    movements: list[Movement]


@catalog.event("CreditsCancelled", version=1)
class CreditsCancelled(EventPayload):
    cancellation_id: str
    account: str
    quantity: Quantity
    reason: Literal["reversal", "correction", "export"]
    note: str | None = None
    movements: list[Movement]


@catalog.event("CreditsImported", version=1)
class CreditsImported(EventPayload):
    """CCER units mirrored from the national registry (bridge-in)."""

    import_id: str
    batch_id: str
    source: str
    external_start: str
    external_end: str
    external_count: Quantity
    project: str
    vintage: Quantity
    start: Quantity
    end: Quantity
    account: str
    movements: list[Movement]


# -- carbon points 碳积分: a ledger of whole points (1 point = 1 kgCO2e), apart from credits ------
# Stream `points-scheme/<id>`: a scheme, its backings, and every mint, transfer and redemption.


@catalog.event("PointsSchemeCreated", version=1)
class PointsSchemeCreated(EventPayload):
    """A points scheme run by `operator`; a backed one mints only what retired tonnes back."""

    scheme_id: str
    name: str
    operator: str
    backed: bool


@catalog.event("PointsBackingAdded", version=1)
class PointsBackingAdded(EventPayload):
    """A retirement (purpose `points_backing`, the operator's) backs the scheme: its tonnes
    raise the mint capacity by 1,000 points each. A retirement backs one scheme, once."""

    scheme_id: str
    retirement_id: str
    points: Quantity


@catalog.event("PointsMinted", version=1)
class PointsMinted(EventPayload):
    scheme_id: str
    mint_id: str
    holder: str
    points: Quantity
    reason: str


@catalog.event("PointsTransferred", version=1)
class PointsTransferred(EventPayload):
    scheme_id: str
    transfer_id: str
    from_holder: str
    to_holder: str
    points: Quantity


@catalog.event("PointsRedeemed", version=1)
class PointsRedeemed(EventPayload):
    """Points spent (burnt). A redeemed point's kilogram stays used: backing is not freed."""

    scheme_id: str
    redemption_id: str
    holder: str
    points: Quantity
    item: str


# -- carbon labels 碳标签: a product's claim backed by a `carbon_label` retirement ------------
# Stream `label/<code>`. Kilograms are decimal strings (a label may claim 0.35 kg a bottle).


@catalog.event("LabelIssued", version=1)
class LabelIssued(EventPayload):
    """`units_covered` × `offset_kg_per_unit` (= `claimed_kg`) of the retirement's tonnes
    claimed for a product batch. `footprint_kg_per_unit` is the product's assessed footprint
    (negative for a net sink). A retirement backs labels until its tonnes are claimed."""

    code: str
    retirement_id: str
    owner: str
    product: str
    product_batch: str
    functional_unit: str
    units_covered: Quantity
    footprint_kg_per_unit: str
    offset_kg_per_unit: str
    claimed_kg: str
    valid_from: str
    valid_to: str


@catalog.event("LabelRevoked", version=1)
class LabelRevoked(EventPayload):
    """Withdrawn by its owner or the registry administrator; its claim stays counted against
    the retirement (the offset may have been communicated already)."""

    code: str
    reason: str
    by: str


# -- pledges over a project's future issuances (质押) -----------------------------------------
# Stream `project-pledge/<id>`. Each issuance of the project into `account` puts the pledged
# share straight into a pledge hold for the lender (a `HoldPlaced` with `reference` = the
# pledge's id), in the issuance's transaction.


@catalog.event("ProjectPledged", version=1)
class ProjectPledged(EventPayload):
    pledge_id: str
    project: str
    account: str  # where the project's issuances arrive (the developer's)
    lender: str
    lender_account: str  # where enforcement delivers
    share_percent: Annotated[int, Field(ge=1, le=100)] | None = None  # of each issuance
    quantity: Quantity | None = None  # in all; None: every issuance's share, without a cap
    registration_ref: str
    loan_amount: Quantity
    expires_at: str


@catalog.event("ProjectPledgeReleased", version=1)
class ProjectPledgeReleased(EventPayload):
    """The lender lets go: later issuances are no longer pledged (holds already placed are
    released by the lender one by one)."""

    pledge_id: str


@catalog.event("ProjectPledgeEnforced", version=1)
class ProjectPledgeEnforced(EventPayload):
    """The loan defaulted: units held under the pledge go to the lender's account, and later
    issuances' shares too, until the pledged quantity is reached."""

    pledge_id: str
