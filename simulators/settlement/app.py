"""The settlement system simulator: implements `contracts/settlement-system.yaml`.

Its own small store (SQLite), fault injection, no dependency on Tanhui's services. `make run`
starts it on port 8005; tests start their own. Not for production: it trusts every caller.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simulators.settlement.faults import FaultPlan, Faults, Injected, Operation
from simulators.settlement.store import Ledger, Refused

PROBLEM = "application/problem+json"
ID = r"^[A-Za-z0-9._:-]{1,120}$"
MAX_FEN = 10**15


class OpenAccount(BaseModel):
    id: str = Field(pattern=ID)
    owner: str = Field(min_length=1, max_length=100)


class Deposit(BaseModel):
    amount: int = Field(gt=0, le=MAX_FEN, description="fen")


class Reserve(BaseModel):
    account: str = Field(pattern=ID)
    amount: int = Field(gt=0, le=MAX_FEN, description="fen")


class Settle(BaseModel):
    reservation: str = Field(pattern=ID)
    to_account: str = Field(pattern=ID)
    amount: int = Field(gt=0, le=MAX_FEN, description="fen")


def _problem(status: int, slug: str, detail: str) -> JSONResponse:
    body = {"type": f"urn:settlement:problem:{slug}", "title": slug, "status": status}
    return JSONResponse(body | {"detail": detail}, status_code=status, media_type=PROBLEM)


class Simulator:
    """The ledger and the fault plan every route shares: one operation at a time, as one
    database transaction each, after the fault plan had its say."""

    def __init__(self, database: Path | str) -> None:
        self.ledger = Ledger(database)
        self.faults = Faults()
        self.lock = asyncio.Lock()

    async def run(self, operation: Operation | None, work: Any, *args: Any) -> Any:
        if operation is not None:
            await self.faults.before(operation)
        async with self.lock:
            return work(*args)

    async def create(self, operation: Operation | None, work: Any, *args: Any) -> JSONResponse:
        """A PUT or POST that creates: 201 the first time, 200 with the same view on a repeat."""
        view, new = await self.run(operation, work, *args)
        return JSONResponse(view, status_code=201 if new else 200)


def create_app(database: Path | str = ":memory:") -> FastAPI:
    app = FastAPI(title="Settlement system simulator 结算系统模拟器", version="1")
    sim = Simulator(database)
    _answer_problems(app)
    _account_routes(app, sim)
    _reservation_routes(app, sim)
    _settlement_routes(app, sim)
    _fault_routes(app, sim)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _answer_problems(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return _problem(exc.status, exc.slug, exc.detail)

    @app.exception_handler(Injected)
    async def injected(_: Request, exc: Injected) -> JSONResponse:
        return _problem(exc.status, exc.slug, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, "invalid-request", str(exc.errors()[:3]))


def _account_routes(app: FastAPI, sim: Simulator) -> None:
    ledger = sim.ledger

    @app.post("/v1/accounts", status_code=201)
    async def open_account(body: OpenAccount) -> JSONResponse:
        return await sim.create(None, ledger.open_account, body.id, body.owner)

    @app.get("/v1/accounts/{account}")
    async def account(account: str) -> dict[str, Any]:
        return await sim.run(None, ledger.account, account)  # type: ignore[no-any-return]

    @app.post("/v1/accounts/{account}/deposits", status_code=201)
    async def deposit(
        account: str, body: Deposit, key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> dict[str, Any]:
        deposit_id = key or uuid.uuid4().hex  # without a key, every call is a new deposit
        return await sim.run("deposit", ledger.deposit, deposit_id, account, body.amount)  # type: ignore[no-any-return]


def _reservation_routes(app: FastAPI, sim: Simulator) -> None:
    ledger = sim.ledger

    @app.put("/v1/reservations/{reservation}")
    async def reserve(reservation: str, body: Reserve) -> JSONResponse:
        return await sim.create("reserve", ledger.reserve, reservation, body.account, body.amount)

    @app.get("/v1/reservations/{reservation}")
    async def reservation_view(reservation: str) -> dict[str, Any]:
        return await sim.run(None, ledger.reservation, reservation)  # type: ignore[no-any-return]

    @app.post("/v1/reservations/{reservation}/release")
    async def release(reservation: str) -> dict[str, Any]:
        return await sim.run("release", ledger.release, reservation)  # type: ignore[no-any-return]


def _settlement_routes(app: FastAPI, sim: Simulator) -> None:
    ledger = sim.ledger

    @app.put("/v1/settlements/{settlement}")
    async def settle(settlement: str, body: Settle) -> JSONResponse:
        return await sim.create(
            "settle", ledger.settle, settlement, body.reservation, body.to_account, body.amount
        )

    @app.get("/v1/settlements/{settlement}")
    async def settlement_view(settlement: str) -> dict[str, Any]:
        return await sim.run(None, ledger.settlement, settlement)  # type: ignore[no-any-return]

    @app.post("/v1/settlements/{settlement}/void")
    async def void(settlement: str) -> dict[str, Any]:
        return await sim.run("void", ledger.void, settlement)  # type: ignore[no-any-return]


def _fault_routes(app: FastAPI, sim: Simulator) -> None:
    @app.put("/v1/faults")
    async def set_faults(plan: FaultPlan) -> FaultPlan:
        sim.faults.set(plan)
        return plan

    @app.delete("/v1/faults", status_code=204)
    async def clear_faults() -> None:
        sim.faults.set(FaultPlan())
