"""Carbon points (碳积分): schemes, backings, mints, transfers, redemptions — the use cases.

Every command locks what it changes (the scheme's row for a mint, a backing or a redemption;
the holders' balances, in one order, for a transfer or a redemption) and re-reads it under the
lock, so concurrent mints never overshoot the backing and concurrent spends never overdraw. The
tables are projections of the events on `points-scheme/<id>`, written in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Literal

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
from services.registry import holdings_store, points_store, store
from services.registry.domain.points import (
    BackingUsed,
    SameHolder,
    Scheme,
    UnknownScheme,
    backing_points,
    check_spend,
)
from services.registry.finance_schemas import (
    AddPointsBacking,
    CreatePointsScheme,
    MintPoints,
    PointsMovement,
    PointsSchemeView,
    RedeemPoints,
    TransferPoints,
)

SUPERVISORS = ("registry_admin", "auditor", "regulator")


class UnknownRetirement(NotFound):
    slug, title = "unknown-retirement", "Unknown retirement"


def stream(scheme_id: str) -> str:
    return f"points-scheme/{scheme_id}"


def scheme_of(row: dict[str, object]) -> Scheme:
    return Scheme(**{k: row[k] for k in Scheme.__dataclass_fields__})  # type: ignore[arg-type]


def view(row: dict[str, object]) -> PointsSchemeView:
    return PointsSchemeView(**row, outstanding=scheme_of(row).outstanding)  # type: ignore[arg-type]


async def load(conn: Queryable, scheme_id: str, for_update: bool = False) -> Scheme:
    row = await points_store.get_scheme(conn, scheme_id, for_update)
    if row is None:
        raise UnknownScheme(f"no points scheme {scheme_id}")
    return scheme_of(row)


async def create_scheme(tx: EventTransaction, body: CreatePointsScheme) -> PointsSchemeView:
    scheme_id = await points_store.next_scheme_id(tx)
    event = PointsSchemeCreated(scheme_id=scheme_id, **body.model_dump())
    await tx.append(stream(scheme_id), 0, [event])
    await points_store.insert_scheme(tx, scheme_id, body.name, body.operator, body.backed)
    row = await points_store.get_scheme(tx, scheme_id)
    assert row is not None
    return view(row)


async def add_backing(
    tx: EventTransaction, principal: Principal, scheme_id: str, body: AddPointsBacking
) -> PointsSchemeView:
    scheme = await load(tx, scheme_id, for_update=True)
    if not principal.has_any("registry_admin"):
        scheme.check_operator(principal.org)
    retirement = await holdings_store.get_retirement(tx, body.retirement_id)
    if retirement is None:
        raise UnknownRetirement(f"no retirement {body.retirement_id}")
    account = await store.get_account(tx, retirement["account"])
    scheme.check_backing(account.owner if account else "", retirement["purpose"])
    if (used_by := await points_store.backing_of(tx, body.retirement_id)) is not None:
        raise BackingUsed(f"{body.retirement_id} backs {used_by}")
    points = backing_points(retirement["quantity"])
    event = PointsBackingAdded(scheme_id=scheme_id, retirement_id=body.retirement_id, points=points)
    await tx.append(stream(scheme_id), ANY_VERSION, [event])
    await points_store.insert_backing(tx, scheme_id, body.retirement_id, points)
    await points_store.add_to_scheme(tx, scheme_id, "backing_points", points)
    return view(await _row(tx, scheme_id))


async def _row(tx: EventTransaction, scheme_id: str) -> dict[str, object]:
    row = await points_store.get_scheme(tx, scheme_id)
    assert row is not None
    return row


async def mint(tx: EventTransaction, principal: Principal, body: MintPoints) -> PointsMovement:
    scheme = await load(tx, body.scheme, for_update=True)  # mints of a scheme queue here
    scheme.check_operator(principal.org)
    scheme.check_mint(body.points)
    event = PointsMinted(
        scheme_id=scheme.id,
        mint_id=f"MNT-{uuid.uuid4().hex[:20].upper()}",
        holder=body.to,
        points=body.points,
        reason=body.reason,
    )
    deltas = {body.to: body.points}
    return await _record(tx, scheme.id, event, "mint", event.mint_id, deltas, "minted")


async def _record(
    tx: EventTransaction,
    scheme_id: str,
    event: PointsMinted | PointsTransferred | PointsRedeemed,
    kind: Literal["mint", "transfer", "redemption"],
    reference: str,
    deltas: dict[str, int],
    total: str | None,
) -> PointsMovement:
    """The event, the balances it changes with their statements, the scheme's `total`."""
    recorded = await tx.append(stream(scheme_id), ANY_VERSION, [event])
    sequence = recorded[0].sequence
    totals = (total, event.points) if total is not None else None
    await points_store.record_change(tx, scheme_id, sequence, kind, reference, deltas, totals)
    return PointsMovement(
        id=reference, scheme=scheme_id, kind=kind, points=event.points, sequence=sequence
    )


def _check_spender(principal: Principal, scheme: Scheme, holder: str) -> None:
    """The holder spends its own points; the operator may on a holder's behalf (a person
    at its counter)."""
    if principal.org != holder:
        scheme.check_operator(principal.org)


async def transfer(
    tx: EventTransaction, principal: Principal, body: TransferPoints
) -> PointsMovement:
    if body.from_ == body.to:
        raise SameHolder()
    scheme = await load(tx, body.scheme)
    _check_spender(principal, scheme, body.from_)
    balances = await points_store.balances_for_update(tx, scheme.id, [body.from_, body.to])
    check_spend(balances.get(body.from_, 0), body.points)
    event = PointsTransferred(
        scheme_id=scheme.id,
        transfer_id=f"PTR-{uuid.uuid4().hex[:20].upper()}",
        from_holder=body.from_,
        to_holder=body.to,
        points=body.points,
    )
    deltas = {body.from_: -body.points, body.to: body.points}
    return await _record(tx, scheme.id, event, "transfer", event.transfer_id, deltas, None)


async def redeem(tx: EventTransaction, principal: Principal, body: RedeemPoints) -> PointsMovement:
    scheme = await load(tx, body.scheme, for_update=True)
    _check_spender(principal, scheme, body.holder)
    balances = await points_store.balances_for_update(tx, scheme.id, [body.holder])
    check_spend(balances.get(body.holder, 0), body.points)
    event = PointsRedeemed(
        scheme_id=scheme.id,
        redemption_id=f"PRD-{uuid.uuid4().hex[:20].upper()}",
        holder=body.holder,
        points=body.points,
        item=body.item,
    )
    deltas = {body.holder: -body.points}
    return await _record(
        tx, scheme.id, event, "redemption", event.redemption_id, deltas, "redeemed"
    )


def check_reader(principal: Principal, scheme: Scheme, holder: str) -> None:
    """A statement is the holder's, its operator's and the supervisors' to read."""
    if principal.org == holder or principal.has_any(*SUPERVISORS):
        return
    scheme.check_operator(principal.org)
