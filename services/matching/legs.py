"""Securing a trade's legs before it exists, and releasing them: units escrowed in the registry
for a seller, cash reserved at the settlement system for a buyer. Refusals of either system
become this service's problems; no answer becomes 503 (a retry under the same key resolves it:
every call is keyed by the listing or trade it is for)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from libs.problems import Problem
from services.matching import legs_store, store
from services.matching.domain.errors import (
    EscrowRefused,
    InsufficientFunds,
    InsufficientUnits,
    ReservationRefused,
    SameDayResale,
    UpstreamUnavailable,
)
from services.matching.market import Market
from services.matching.settlement import reservation_id
from services.matching.upstream import REPLAYED, NoAnswer, Refusal

log = logging.getLogger(__name__)

_ESCROW_REFUSALS: dict[str, type[Problem]] = {
    "insufficient-units": InsufficientUnits,
    "units-unavailable": InsufficientUnits,
    "criteria-match-nothing": InsufficientUnits,
    "same-day-resale": SameDayResale,
}


class KeySpent(Problem):
    status, slug, title = 409, "key-spent", "This key's attempt was refused; use a new key"


async def escrow_units(
    market: Market,
    authorization: str,
    member: dict[str, Any],
    instrument: dict[str, Any],
    quantity: int,
    owner_id: str,
) -> str:
    """Escrow `quantity` t of the instrument's program and vintage from the member's registry
    account, held by the market; the hold's id."""
    try:
        hold = await market.registry.escrow(
            authorization,
            member["registry_account"],
            instrument["program"],
            instrument["vintage"],
            quantity,
            key=f"escrow-{owner_id}",
        )
    except Refusal as refusal:
        problem = _ESCROW_REFUSALS.get(refusal.slug, EscrowRefused)
        raise problem(
            str(refusal.problem.get("detail", refusal.slug)), registry=refusal.problem
        ) from None
    except NoAnswer as exc:
        raise UpstreamUnavailable("the registry did not answer; retry with the same key") from exc
    if hold.get(REPLAYED) and not await _still_held(market, owner_id):
        raise KeySpent("the escrow made under this key was released")
    return str(hold["id"])


async def _still_held(market: Market, owner_id: str) -> bool:
    try:
        holds = await market.registry.held_for(owner_id)
    except (Refusal, NoAnswer) as exc:
        raise UpstreamUnavailable("the registry did not answer; retry with the same key") from exc
    return any(h["status"] == "active" for h in holds)


async def reserve_cash(market: Market, member: dict[str, Any], amount: int, owner_id: str) -> str:
    """Reserve `amount` fen in the member's cash account; the reservation's id."""
    reservation = reservation_id(owner_id)
    try:
        answer = await market.settlement.reserve(reservation, member["cash_account"], amount)
    except Refusal as refusal:
        if refusal.slug == "insufficient-funds":
            raise InsufficientFunds(str(refusal.problem.get("detail", ""))) from None
        raise ReservationRefused(
            str(refusal.problem.get("detail", "")), settlement=refusal.problem
        ) from None
    except NoAnswer as exc:
        raise UpstreamUnavailable(
            "the settlement system did not answer; retry with the same key"
        ) from exc
    if answer.get("status") != "active":
        raise KeySpent("the reservation made under this key was released")
    return reservation


@dataclass(frozen=True)
class SecuredLeg:
    """A seller's escrow (`hold_id`) or a buyer's reservation, and how to give it back."""

    hold_id: str | None
    reservation_id: str | None
    release: Callable[[], Awaitable[None]]


async def secure(
    market: Market,
    pool: store.Conn,
    authorization: str,
    member: dict[str, Any],
    instrument: dict[str, Any],
    side: str,
    quantity: int,
    amount: int,
    owner_id: str,
) -> SecuredLeg:
    """A seller's units escrowed or a buyer's `amount` fen reserved for the listing, order,
    trade or leg `owner_id`. Noted as pending first: the command recording the owner forgets
    it; the sweep releases one nothing recorded."""
    await legs_store.note_pending_leg(pool, owner_id, member["org"], side)
    if side == "sell":
        hold_id = await escrow_units(market, authorization, member, instrument, quantity, owner_id)
        return SecuredLeg(hold_id, None, release_hold(market, hold_id, owner_id))
    reservation = await reserve_cash(market, member, amount, owner_id)
    return SecuredLeg(None, reservation, release_cash(market, reservation))


def release_hold(market: Market, hold_id: str, owner_id: str) -> Callable[[], Awaitable[None]]:
    return lambda: _retrying(
        f"release hold {hold_id}", lambda: market.registry.release(hold_id, f"release-{owner_id}")
    )


def release_cash(market: Market, reservation: str) -> Callable[[], Awaitable[None]]:
    return lambda: _retrying(
        f"release reservation {reservation}", lambda: market.settlement.release(reservation)
    )


async def _retrying(what: str, call: Callable[[], Awaitable[object]], attempts: int = 3) -> None:
    """A release is idempotent: try it a few times; a refusal means it is gone already."""
    for attempt in range(attempts):
        try:
            await call()
            return
        except Refusal as refusal:
            log.info("%s: %s (nothing left to release)", what, refusal)
            return
        except NoAnswer as exc:
            log.warning("%s: attempt %d: %s", what, attempt + 1, exc)
            await asyncio.sleep(0.2 * 2**attempt)
    log.error("%s: gave up after %d attempts; release it by hand", what, attempts)
