"""A running market for tests: the registry and matching in process (real apps, real database
and broker), the settlement simulator as its own process (its SQLite store in a temporary file),
with helpers that set up members, credits and cash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from libs.devstack.processes import free_port
from libs.devstack.settlement import SettlementSimulator
from libs.servicekit.devtokens import issue_token
from services.matching.app import create_app as matching_app
from services.matching.audit import verify
from services.registry.app import create_app as registry_app
from tests.conftest import Platform, running
from tests.e2e.conftest import Slice
from tests.e2e.test_registry_movements import holdings, issue
from tests.e2e.test_thin_slice import open_account

MARKET = "TANHUI-MARKET"
INSTRUMENT = "YRDPH-2024"


@dataclass
class Market:
    platform: Platform
    registry: httpx.AsyncClient
    matching: httpx.AsyncClient
    cash: httpx.AsyncClient
    matching_app: FastAPI
    registry_slice: Slice
    restart: Callable[[], Awaitable[None]] | None = None  # set by `market_running`

    @property
    def operator(self) -> dict[str, str]:
        return self.platform.token(MARKET, "market_operator")

    def member(self, org: str) -> dict[str, str]:
        return self.platform.token(org, "member", "account_holder")

    async def list_instrument(self, **terms: Any) -> dict[str, Any]:
        body = {
            "program": "YRDPH",
            "vintage": 2024,
            "market_model": "listing",
            "reference_price": 5000,
            "sessions": "always",
        } | terms
        response = await self.matching.post("/v1/instruments", json=body, headers=self.operator)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def admit(self, org: str, units: int = 0, cash: int = 0) -> dict[str, str]:
        """A member with a registry account holding `units` t of YRDPH 2024 and a cash account
        holding `cash` fen."""
        account = await open_account(self.registry_slice, org)
        if units:
            await issue(self.registry_slice, account, 2024, units)
        cash_account = f"CASH-{org}"
        opened = await self.cash.post("/v1/accounts", json={"id": cash_account, "owner": org})
        assert opened.status_code == 201, opened.text
        if cash:
            await self.deposit(cash_account, cash)
        body = {"org": org, "registry_account": account, "cash_account": cash_account}
        admitted = await self.matching.post("/v1/members", json=body, headers=self.operator)
        assert admitted.status_code == 201, admitted.text
        return body

    async def deposit(self, cash_account: str, amount: int) -> None:
        done = await self.cash.post(
            f"/v1/accounts/{cash_account}/deposits", json={"amount": amount}
        )
        assert done.status_code == 201, done.text

    async def post_listing(
        self, org: str, side: str, price: int, quantity: int, key: str | None = None
    ) -> httpx.Response:
        headers = self.member(org) | ({"Idempotency-Key": key} if key else {})
        body = {"instrument": INSTRUMENT, "side": side, "price": price, "quantity": quantity}
        return await self.matching.post("/v1/listings", json=body, headers=headers)

    async def take(
        self, org: str, listing_id: str, quantity: int, key: str | None = None
    ) -> httpx.Response:
        headers = self.member(org) | ({"Idempotency-Key": key} if key else {})
        return await self.matching.post(
            f"/v1/listings/{listing_id}/take", json={"quantity": quantity}, headers=headers
        )

    async def order(self, org: str, key: str, **body: Any) -> httpx.Response:
        order = {"instrument": INSTRUMENT} | body
        headers = self.member(org) | {"Idempotency-Key": key}
        return await self.matching.post("/v1/orders", json=order, headers=headers)

    async def closed_trade(self, trade_id: str, timeout: float = 20) -> dict[str, Any]:
        """The trade once settled or failed."""
        async with asyncio.timeout(timeout):
            while True:
                got = await self.matching.get(f"/v1/trades/{trade_id}", headers=self.operator)
                assert got.status_code == 200, got.text
                if got.json()["status"] != "executed":
                    return got.json()  # type: ignore[no-any-return]
                await asyncio.sleep(0.05)

    async def units(self, member: dict[str, str]) -> tuple[int, int]:
        """(available, held) t in the member's registry account."""
        view = await holdings(self.registry_slice, member["registry_account"])
        return view["available"], view["held"]

    async def balance(self, member: dict[str, str]) -> tuple[int, int]:
        """(balance, reserved) fen in the member's cash account."""
        view = (await self.cash.get(f"/v1/accounts/{member['cash_account']}")).json()
        return view["balance"], view["reserved"]

    async def verified(self) -> None:
        """Replaying matching's log gives exactly its live tables."""
        report = await verify(self.matching_app.state.runtime.pool)
        assert report.ok, (report.differing, report.problems)
        assert report.events > 0

    async def faults(self, *rules: dict[str, Any]) -> None:
        done = await self.cash.put("/v1/faults", json={"rules": list(rules)})
        assert done.status_code == 200, done.text


@asynccontextmanager
async def market_running(
    platform: Platform, topics: str, tmp: Path, **matching_settings: Any
) -> AsyncIterator[Market]:
    """The market; `Market.restart` stops matching as a crash would (its tasks
    cancelled wherever they are) and starts a new one on the same database."""
    registry = registry_app(await platform.settings("registry", topics, relay_enabled=False))  # type: ignore[arg-type]
    # The simulator is a process of its own, as the real system is: a call matching gives up
    # on (a timeout, a crash) still lands there.
    simulator = SettlementSimulator(tmp / "settlement", free_port())
    await asyncio.to_thread(simulator.start)
    values = {
        "relay_enabled": False,
        "market_token": issue_token(platform.state_dir, MARKET, ["market_operator"]),
        "market_org": MARKET,
        "settlement_url": simulator.url,
        "settlement_retry_seconds": 0.2,
        "upstream_timeout_seconds": 2.0,
    } | matching_settings
    settings = await platform.settings("matching", topics, **values)

    def new_matching() -> FastAPI:
        return matching_app(
            settings,  # type: ignore[arg-type]
            registry_transport=httpx.ASGITransport(app=registry),
        )

    async with (
        running(registry) as r,
        httpx.AsyncClient(base_url=simulator.url) as cash,
    ):
        admin = platform.token("ORG-REGISTRY", "registry_admin")
        stack = AsyncExitStack()
        app = new_matching()
        m = await stack.enter_async_context(running(app))
        market = Market(platform, r, m, cash, app, Slice(r, r, admin, registry))

        async def restart() -> None:
            nonlocal stack
            await stack.aclose()
            stack = AsyncExitStack()
            market.matching_app = new_matching()
            market.matching = await stack.enter_async_context(running(market.matching_app))

        market.restart = restart
        try:
            yield market
        finally:
            await stack.aclose()
            simulator.stop()
