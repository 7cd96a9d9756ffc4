"""Holds (docs/domain.md): escrow for a market, pledge for a lender, freeze for a regulator.

Placing a hold moves units from available to held in the same account, tagged with the hold.
Only the holder (or registry_admin) may release or execute it; anyone else gets 404, as for an
unknown hold. Execution delivers all or part of the held units (lowest first) to another account,
available there — or, with `keep_held`, still held by the same holder under a new hold, which
the holder later executes to that account (the trade is final) or back to where the units came
from (it failed). An escrow executed to another account settles a trade, so the buyer's units
carry today's acquisition date (`domain/escrow.py`). An expired hold releases itself
(`release_expired`, run by the registry's sweeper).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson

from libs.events.contract.registry import HoldExecuted, HoldPlaced, HoldReleased
from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from services.registry import holdings_store, movements
from services.registry.access import check_open, check_owned
from services.registry.decisions import Decision, Emit, run
from services.registry.domain import ledger
from services.registry.domain.errors import (
    HoldNotActive,
    HoldNotAllowed,
    InsufficientUnits,
    UnknownAccount,
    UnknownHold,
)
from services.registry.domain.escrow import is_purchase
from services.registry.schemas import BlockView, ExecuteHold, HoldView, PlaceHold
from services.registry.workbook import Work, work_of

PLACERS = {  # who may place each kind of hold, besides registry_admin
    "escrow": "owner",  # the owner offers units on a market (holder = the market)
    "pledge": "owner",  # the owner pledges units to a lender (holder = the lender)
    "freeze": "regulator",  # a regulator freezes units (holder = the regulator's organisation)
}


def today() -> date:
    return datetime.now(UTC).date()


async def place_hold(tx: EventTransaction, principal: Principal, body: PlaceHold) -> HoldView:
    return await run(tx, lambda work: decide_place(work, principal, body))


def decide_place(work: Work, principal: Principal, body: PlaceHold) -> Decision[HoldView]:
    account = work.holder(body.account)
    if PLACERS[body.purpose] == "regulator":
        if not principal.has_any("regulator", "registry_admin"):
            raise HoldNotAllowed("only a regulator may freeze units")
        if account is None:
            raise UnknownAccount()
    else:
        check_owned(principal, body.account, account)
    guard = today() if body.purpose == "escrow" else None
    hold_id = f"HLD-{work.number():08d}"
    splits = movements.split_units(
        work, body.account, body, body.account, "held", hold_id=hold_id, not_acquired_on=guard
    )
    moved = [s.moved for s in splits]
    quantity = sum(h.quantity for h in moved)
    expires_at = body.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # a time without an offset is UTC
    expires = expires_at.isoformat() if expires_at else None
    moved_data = movements.movement_data(moved, body.account, "available")
    event = HoldPlaced.model_validate(
        {
            "hold_id": hold_id,
            "account": body.account,
            "purpose": body.purpose,
            "holder": body.holder,
            "expires_at": expires,
            "reference": body.reference,
            "pledge": body.pledge.model_dump(mode="json") if body.pledge else None,
            "quantity": quantity,
            "movements": moved_data,
        }
    )
    record = {
        "id": hold_id,
        "account": body.account,
        "purpose": body.purpose,
        "holder": body.holder,
        "status": "active",
        "quantity": quantity,
        "expires_at": expires_at,
        "origin_account": None,
        "reference": body.reference,
        "pledge": orjson.dumps(event.pledge.model_dump()).decode() if event.pledge else None,
    }
    emit = Emit(f"hold/{hold_id}", 0, event, moved_data)
    return Decision(_view(record, moved), (emit,), splits, holds=(record,))


async def release(
    tx: EventTransaction, principal: Principal | None, hold_id: str, reason: str = "released"
) -> HoldView:
    return await run(tx, lambda work: decide_release(work, principal, hold_id, reason))


def decide_release(
    work: Work, principal: Principal | None, hold_id: str, reason: str
) -> Decision[HoldView]:
    hold = _active_hold(work, principal, hold_id)
    takes = [ledger.Take(h, h.start, h.end) for h in work.hold_blocks(hold_id)]
    splits = movements.splits_of(work, takes, hold["account"], "available")
    moved = [s.moved for s in splits]
    moved_data = movements.movement_data(moved, hold["account"], "held")
    event = HoldReleased.model_validate(
        {
            "hold_id": hold_id,
            "reason": reason,
            "quantity": sum(h.quantity for h in moved),
            "movements": moved_data,
        }
    )
    released = hold | {"status": "released"}
    emit = Emit(f"hold/{hold_id}", -1, event, moved_data)
    return Decision(_view(released, moved), (emit,), splits, holds=(released,))


async def execute(
    tx: EventTransaction, principal: Principal, hold_id: str, body: ExecuteHold
) -> HoldView:
    return await run(tx, lambda work: decide_execution(work, principal, hold_id, body))


def decide_execution(
    work: Work, principal: Principal, hold_id: str, body: ExecuteHold
) -> Decision[HoldView]:
    hold = _active_hold(work, principal, hold_id)
    check_open(body.to_account, work.account(body.to_account))
    held = work.hold_blocks(hold_id)
    available = sum(h.quantity for h in held)
    quantity = body.quantity or available
    try:
        takes = ledger.select_by_quantity(held, quantity)
    except ledger.NotEnoughUnits as exc:
        raise InsufficientUnits(f"the hold has {available} t", available=available) from exc
    origin = hold.get("origin_account") or hold["account"]
    purchase = is_purchase(hold["purpose"], origin, body.to_account, body.keep_held)
    delivered = None
    if body.keep_held:
        delivered = {
            "id": f"HLD-{work.number():08d}",
            "account": body.to_account,
            "purpose": hold["purpose"],
            "holder": hold["holder"],
            "status": "active",
            "quantity": quantity,
            "expires_at": None,
            "origin_account": origin,
            "pledge": hold.get("pledge"),  # delivered to the lender under the same loan
        }
    splits = movements.splits_of(
        work,
        takes,
        body.to_account,
        "held" if delivered else "available",
        hold_id=delivered["id"] if delivered else None,
        acquired_on=today() if purchase else None,
    )
    moved = [s.moved for s in splits]
    remaining = available - quantity
    moved_data = movements.movement_data(moved, hold["account"], "held")
    event = HoldExecuted.model_validate(
        {
            "hold_id": hold_id,
            "to_account": body.to_account,
            "quantity": quantity,
            "remaining": remaining,
            "delivered_hold_id": delivered["id"] if delivered else None,
            "movements": moved_data,
        }
    )
    changed = hold | {"status": "executed" if remaining == 0 else "active"}
    view = _view(changed, moved)
    view.delivered_hold_id = delivered["id"] if delivered else None
    rows = (changed, delivered) if delivered else (changed,)
    return Decision(view, (Emit(f"hold/{hold_id}", -1, event, moved_data),), splits, holds=rows)


async def release_expired(tx: EventTransaction) -> int:
    expired = await holdings_store.expired_holds(tx)
    await work_of(tx).read_holds(tx, expired)  # all of them in one read
    for hold_id in expired:
        await release(tx, None, hold_id, reason="expired")
    return len(expired)


def _active_hold(work: Work, principal: Principal | None, hold_id: str) -> dict[str, Any]:
    hold = work.hold(hold_id)
    allowed = (
        principal is None
        or principal.has_any("registry_admin")
        or (hold is not None and principal.org == hold["holder"])
    )
    if hold is None or not allowed:
        raise UnknownHold(f"no hold {hold_id} held by you")
    if hold["status"] != "active":
        raise HoldNotActive(f"hold {hold_id} is {hold['status']}")
    if principal is not None and hold["expires_at"] and hold["expires_at"] <= datetime.now(UTC):
        raise HoldNotActive(f"hold {hold_id} expired at {hold['expires_at'].isoformat()}")
    return hold


def _view(hold: dict[str, Any], moved: list[ledger.Holding]) -> HoldView:
    return HoldView(
        id=hold["id"],
        account=hold["account"],
        purpose=hold["purpose"],
        holder=hold["holder"],
        status=hold["status"],
        quantity=hold["quantity"],
        expires_at=hold["expires_at"],
        reference=hold.get("reference"),
        pledge=orjson.loads(hold["pledge"]) if hold.get("pledge") else None,
        blocks=[BlockView.model_validate(movements.block_data(h, hold["account"])) for h in moved],
    )
