"""The adapter to the exchange's settlement system (contracts/settlement-system.yaml): the only
code that talks to it.

Every call is idempotent by an id derived from what it is for (`reservation_id`,
`settlement_id`), so repeating one after a crash or a timeout never moves cash twice.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.matching.upstream import call


def reservation_id(owner: str) -> str:
    """The reservation securing a buy listing or a taker's buy (`owner` is its id)."""
    return f"RSV-{owner}"


def settlement_id(trade_id: str) -> str:
    return f"STL-{trade_id}"


class SettlementSystem:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def reserve(self, reservation: str, account: str, amount: int) -> dict[str, Any]:
        body = {"account": account, "amount": amount}
        return await call(self.client, "PUT", f"/v1/reservations/{reservation}", json=body)

    async def release(self, reservation: str) -> dict[str, Any]:
        return await call(self.client, "POST", f"/v1/reservations/{reservation}/release")

    async def settle(
        self, settlement: str, reservation: str, to_account: str, amount: int
    ) -> dict[str, Any]:
        body = {"reservation": reservation, "to_account": to_account, "amount": amount}
        return await call(self.client, "PUT", f"/v1/settlements/{settlement}", json=body)

    async def void(self, settlement: str) -> dict[str, Any]:
        return await call(self.client, "POST", f"/v1/settlements/{settlement}/void")
