"""Holds at the registry: the only code in matching that talks to it.

A member's escrow is placed with the member's own token (the registry checks that the member
owns the account: its consent); the market then executes or releases it under its own
organisation's token (the market is the holder). Every call carries an Idempotency-Key derived
from the listing or trade it is for.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.matching.upstream import call


class Registry:
    def __init__(
        self, client: httpx.AsyncClient, market_token: str | None, market_org: str
    ) -> None:
        self.client = client
        self.market_org = market_org
        self._market = {"Authorization": f"Bearer {market_token}"} if market_token else {}

    async def escrow(
        self,
        member_authorization: str,
        account: str,
        program: str,
        vintage: int,
        quantity: int,
        key: str,
    ) -> dict[str, Any]:
        body = {
            "account": account,
            "quantity": quantity,
            "criteria": {"program": program, "vintage": vintage},
            "purpose": "escrow",
            "holder": self.market_org,
            "reference": key.removeprefix("escrow-"),
        }
        headers = {"Authorization": member_authorization, "Idempotency-Key": key}
        return await call(self.client, "POST", "/v1/holds", json=body, headers=headers)

    async def execute_many(
        self, executions: list[dict[str, Any]], key: str
    ) -> list[dict[str, Any]]:
        """Holds executed in one bulk request (`independent`: an answer per item, in order),
        each item `{hold_id, to_account, quantity?, keep_held}`; the key covers the request."""
        operations = [{"op": "execute"} | item for item in executions]
        body = {"mode": "independent", "operations": operations}
        headers = self._market | {"Idempotency-Key": key}
        answer = await call(self.client, "POST", "/v1/bulk", json=body, headers=headers)
        return list(answer["results"])

    async def release_many(self, hold_ids: list[str]) -> list[dict[str, Any]]:
        """Holds released in one bulk request (`independent`: an answer per item, in order).
        Unkeyed: a hold released (or executed) already is refused, which is the same end."""
        operations = [{"op": "release", "hold_id": hold_id} for hold_id in hold_ids]
        body = {"mode": "independent", "operations": operations}
        answer = await call(self.client, "POST", "/v1/bulk", json=body, headers=self._market)
        return list(answer["results"])

    async def held_for(self, reference: str) -> list[dict[str, Any]]:
        """The market's holds placed for a listing, order or trade (`reference`: its id)."""
        answer = await call(
            self.client, "GET", f"/v1/holds?reference={reference}", headers=self._market
        )
        return list(answer["items"])

    async def release(self, hold_id: str, key: str) -> dict[str, Any]:
        headers = self._market | {"Idempotency-Key": key}
        return await call(self.client, "POST", f"/v1/holds/{hold_id}/release", headers=headers)
