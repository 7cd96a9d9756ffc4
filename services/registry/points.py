"""Carbon points (碳积分): schemes, backings, mints, transfers, redemptions — the use cases.

Each command has one shape: its reads (the batch's, in one round trip: `points_work`), then a
decision on the in-memory `PointsLedger` (pure: `domain/points.py`), then its event appended and
its change applied; the unit of work writes the tables at the flush. The tables are projections
of the events on `points-scheme/<id>`, written in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from libs.events.contract.registry import (
    PointsBackingAdded,
    PointsMinted,
    PointsRedeemed,
    PointsSchemeCreated,
    PointsTransferred,
)
from libs.events.store import ANY_VERSION, EventTransaction, Queryable
from libs.problems import NotFound
from libs.servicekit.auth import Principal
from services.registry import points_store, retirements_store, store
from services.registry.domain.points import Change, Scheme, UnknownScheme, backing_points
from services.registry.finance_schemas import (
    AddPointsBacking,
    CreatePointsScheme,
    MintPoints,
    PointsMovement,
    PointsSchemeView,
    RedeemPoints,
    TransferPoints,
)
from services.registry.points_work import PointsHint, points_work

SUPERVISORS = ("registry_admin", "auditor", "regulator")


class UnknownRetirement(NotFound):
    slug, title = "unknown-retirement", "Unknown retirement"


def stream(scheme_id: str) -> str:
    return f"points-scheme/{scheme_id}"


def view(scheme: Scheme) -> PointsSchemeView:
    return PointsSchemeView(**asdict(scheme), outstanding=scheme.outstanding)


async def load(conn: Queryable, scheme_id: str) -> Scheme:
    scheme = await points_store.get_scheme(conn, scheme_id)
    if scheme is None:
        raise UnknownScheme(f"no points scheme {scheme_id}")
    return scheme


def mint_hint(body: MintPoints) -> PointsHint:
    return PointsHint(body.scheme, (body.to,))


def transfer_hint(body: TransferPoints) -> PointsHint:
    return PointsHint(body.scheme, (body.from_, body.to))


def redemption_hint(body: RedeemPoints) -> PointsHint:
    return PointsHint(body.scheme, (body.holder,))


async def create_scheme(tx: EventTransaction, body: CreatePointsScheme) -> PointsSchemeView:
    scheme_id = await points_store.next_scheme_id(tx)
    event = PointsSchemeCreated(scheme_id=scheme_id, **body.model_dump())
    await tx.append(stream(scheme_id), 0, [event])
    scheme = Scheme(scheme_id, body.name, body.operator, body.backed, 0, 0, 0)
    points_work(tx).create(scheme)
    return view(scheme)


async def add_backing(
    tx: EventTransaction, principal: Principal, scheme_id: str, body: AddPointsBacking
) -> PointsSchemeView:
    retirement_id = body.retirement_id
    work = points_work(tx)
    ledger = await work.read(tx, PointsHint(scheme_id, retirements=(retirement_id,)))
    by = None if principal.has_any("registry_admin") else principal.org
    if by is not None:  # refused before the retirement is looked at
        ledger.scheme(scheme_id).check_operator(by)
    retirement = await retirements_store.get_retirement(tx, retirement_id)
    if retirement is None:
        raise UnknownRetirement(f"no retirement {retirement_id}")
    account = await store.get_account(tx, retirement["account"])
    owner = account.owner if account else ""
    ledger.check_backing(scheme_id, retirement_id, owner, retirement["purpose"])
    points = backing_points(retirement["quantity"])
    event = PointsBackingAdded(scheme_id=scheme_id, retirement_id=retirement_id, points=points)
    await tx.append(stream(scheme_id), ANY_VERSION, [event])
    work.add_backing(scheme_id, retirement_id, points)
    return view(ledger.scheme(scheme_id))


def _reference(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20].upper()}"


async def mint(tx: EventTransaction, principal: Principal, body: MintPoints) -> PointsMovement:
    ledger = await points_work(tx).read(tx, mint_hint(body))
    change = ledger.mint(body.scheme, principal.org, body.to, body.points, _reference("MNT"))
    event = PointsMinted(
        scheme_id=body.scheme,
        mint_id=change.reference,
        holder=body.to,
        points=body.points,
        reason=body.reason,
    )
    return await _record(tx, change, event)


async def transfer(
    tx: EventTransaction, principal: Principal, body: TransferPoints
) -> PointsMovement:
    ledger = await points_work(tx).read(tx, transfer_hint(body))
    reference = _reference("PTR")
    change = ledger.transfer(
        body.scheme, principal.org, body.from_, body.to, body.points, reference
    )
    event = PointsTransferred(
        scheme_id=body.scheme,
        transfer_id=reference,
        from_holder=body.from_,
        to_holder=body.to,
        points=body.points,
    )
    return await _record(tx, change, event)


async def redeem(tx: EventTransaction, principal: Principal, body: RedeemPoints) -> PointsMovement:
    ledger = await points_work(tx).read(tx, redemption_hint(body))
    change = ledger.redeem(body.scheme, principal.org, body.holder, body.points, _reference("PRD"))
    event = PointsRedeemed(
        scheme_id=body.scheme,
        redemption_id=change.reference,
        holder=body.holder,
        points=body.points,
        item=body.item,
    )
    return await _record(tx, change, event)


async def _record(
    tx: EventTransaction, change: Change, event: PointsMinted | PointsTransferred | PointsRedeemed
) -> PointsMovement:
    """The decided change's event appended, then the change applied (written at the flush)."""
    (recorded,) = await tx.append(stream(change.scheme_id), ANY_VERSION, [event])
    points_work(tx).apply(tx, change, recorded.sequence)
    return PointsMovement(
        id=change.reference,
        scheme=change.scheme_id,
        kind=change.kind,
        points=change.points,
        sequence=recorded.sequence,
    )


def check_reader(principal: Principal, scheme: Scheme, holder: str) -> None:
    """A statement is the holder's, its operator's and the supervisors' to read."""
    if principal.org == holder or principal.has_any(*SUPERVISORS):
        return
    scheme.check_operator(principal.org)
