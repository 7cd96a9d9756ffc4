"""Each party's one leg in a block negotiation: reused while it covers the party's new terms,
replaced by a newly secured one when they need more (the old one is then spare)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from libs.events.store import EventTransaction
from libs.servicekit.app import runtime_of
from services.matching import instruments, legs, legs_store, store
from services.matching.domain.block import OfferChanged
from services.matching.market import market_of
from services.matching.schemas import BlockTerms


@dataclass(frozen=True)
class LegPlan:
    """Which leg commits a party to terms: the one it has in this negotiation if it covers
    them, or a new one (`amount`: t for a seller, fen for a buyer)."""

    leg_id: str
    amount: int
    existing: dict[str, Any] | None  # the reused leg's row


def plan_for(existing: dict[str, Any] | None, side: str, terms: BlockTerms, new_id: str) -> LegPlan:
    need = terms.quantity if side == "sell" else terms.price * terms.quantity
    if existing is not None and existing["state"] == "live" and existing["amount"] >= need:
        return LegPlan(existing["id"], existing["amount"], existing)
    return LegPlan(new_id, need, None)


def own_leg_id(quote: dict[str, Any], org: str) -> str | None:
    leg_id: str | None = quote["maker_leg_id" if org == quote["maker"] else "counterparty_leg_id"]
    return leg_id


def securer(
    request: Request,
    member: dict[str, Any],
    instrument_id: str,
    side: str,
    terms: BlockTerms,
    plan: LegPlan,
) -> Callable[[], Awaitable[legs.SecuredLeg]]:
    """How to secure `member`'s leg for `terms` (called only if the key has no answer yet)."""
    market, pool = market_of(request), runtime_of(request).pool

    async def secure() -> legs.SecuredLeg:
        if plan.existing is not None:  # kept for the negotiation: nothing to give back
            return legs.SecuredLeg(plan.existing["hold_id"], plan.existing["reservation_id"], _kept)
        instrument = await instruments.load(pool, instrument_id)
        return await legs.secure(
            market,
            pool,
            request.headers.get("authorization", ""),
            member,
            instrument,
            side,
            terms.quantity,
            terms.price * terms.quantity,
            plan.leg_id,
        )

    return secure


async def _kept() -> None:
    return None


async def own_leg(conn: store.Conn, quote: dict[str, Any], org: str) -> dict[str, Any] | None:
    leg_id = own_leg_id(quote, org)
    return await legs_store.get_leg(conn, leg_id) if leg_id else None


def check_same_leg(quote: dict[str, Any], org: str, plan: LegPlan) -> None:
    if plan.existing is not None and own_leg_id(quote, org) != plan.leg_id:
        raise OfferChanged("your leg in this negotiation changed meanwhile; retry")


async def switch_leg(
    tx: EventTransaction,
    quote: dict[str, Any],
    org: str,
    plan: LegPlan,
    leg: legs.SecuredLeg,
) -> dict[str, Any]:
    """Record `org`'s new leg, if it has one (its old one is spare); the quote's leg columns."""
    old = own_leg_id(quote, org)
    column = "maker_leg_id" if org == quote["maker"] else "counterparty_leg_id"
    if plan.existing is None:
        await legs_store.insert_leg(
            tx, plan.leg_id, quote["id"], org, leg.hold_id, leg.reservation_id, plan.amount
        )
        if old is not None:
            await legs_store.spare_legs(tx, [old])
    return {column: plan.leg_id}
