"""Trades as their parties and the market operator see them."""

from __future__ import annotations

from typing import Any

from libs.events.contract.matching import TradeExecuted
from libs.servicekit.auth import Principal
from services.matching.domain.errors import UnknownTrade
from services.matching.schemas import TradeView


def trade_view(row: dict[str, Any]) -> TradeView:
    return TradeView(
        trade_id=row["id"],
        instrument=row["instrument_id"],
        mode=row["mode"],
        price=row["price"],
        quantity=row["quantity"],
        amount=row["price"] * row["quantity"],
        buyer=row["buyer"],
        seller=row["seller"],
        listing_id=row["listing_id"],
        status=row["status"],
        failed_leg=row["failed_leg"],
        failure_reason=row["failure_reason"],
        executed_at=row["executed_at"],
        closed_at=row["closed_at"],
    )


def visible(principal: Principal, trade: dict[str, Any] | None) -> dict[str, Any]:
    """Either side and the market operator (and supervisors) see a trade; others get 404."""
    if trade is None:
        raise UnknownTrade()
    if principal.has_any("market_operator", "regulator", "auditor"):
        return trade
    if principal.org is not None and principal.org in (trade["buyer"], trade["seller"]):
        return trade
    raise UnknownTrade()


def executed(buyer: dict[str, Any], seller: dict[str, Any], **terms: Any) -> TradeExecuted:
    """A trade between two members (their rows: organisation, registry and cash accounts) on
    `terms` — id, instrument, mode, price, quantity, what was taken, the legs, the day."""
    return TradeExecuted(
        buyer=buyer["org"],
        seller=seller["org"],
        buyer_registry_account=buyer["registry_account"],
        buyer_cash_account=buyer["cash_account"],
        seller_registry_account=seller["registry_account"],
        seller_cash_account=seller["cash_account"],
        **terms,
    )
