"""Transfers, retirements (with certificates) and holdings (docs/rest.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from libs.events.contract.registry import CreditsTransferred
from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, require_authenticated
from libs.servicekit.idempotency import idempotency_key
from services.registry import holdings_store, movements, queries, retirements_store, service, store
from services.registry.certificate import render_certificate
from services.registry.domain.errors import UnknownRetirement, UnknownTransfer
from services.registry.domain.serials import format_block
from services.registry.schemas import (
    HoldingBlock,
    HoldingsView,
    RetireCredits,
    RetirementView,
    TransferCredits,
    TransferView,
)

router = APIRouter(prefix="/v1", tags=["movements"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (404, 409, 422)}


@router.post(
    "/transfers",
    status_code=201,
    response_model=TransferView,
    responses=ERRORS,
    summary="Transfer units by quantity (selection rule) or exact serials",
)
async def transfer(
    body: TransferCredits,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request,
        principal,
        key,
        body,
        lambda tx: movements.transfer(tx, principal, body),
        hint=movements.transfer_hint(body),
    )


@router.get(
    "/transfers/{transfer_id}",
    response_model=TransferView,
    responses=ERRORS,
    summary="A transfer, from its event (either account's owner, auditors, regulators)",
)
async def get_transfer(
    transfer_id: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> TransferView:
    pool = runtime_of(request).pool
    event = await queries.transfer_event(pool, transfer_id)
    if event is None:
        raise UnknownTransfer()
    parties = [
        await store.get_account(pool, event[side]) for side in ("from_account", "to_account")
    ]
    if not any(service.can_read(principal, account) for account in parties):
        raise UnknownTransfer()  # 404, as for unknown ids
    return movements.transfer_view(CreditsTransferred.model_validate(event))


@router.post(
    "/retirements",
    status_code=201,
    response_model=RetirementView,
    responses=ERRORS,
    summary="Retire units for a beneficiary (terminal); returns the certificate URL",
)
async def retire(
    body: RetireCredits,
    request: Request,
    principal: Principal = Depends(require_authenticated),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: movements.retire(tx, principal, body)
    )


@router.get(
    "/retirements/{retirement_id}",
    response_model=RetirementView,
    responses=ERRORS,
    summary="A retirement (public: retirements are disclosed with their beneficiary)",
)
async def get_retirement(retirement_id: str, request: Request) -> RetirementView:
    record = await retirements_store.get_retirement(runtime_of(request).pool, retirement_id)
    if record is None:
        raise UnknownRetirement()
    return RetirementView(**record, certificate_url=f"/v1/retirements/{retirement_id}/certificate")


@router.get(
    "/retirements/{retirement_id}/certificate",
    response_class=HTMLResponse,
    responses=ERRORS,
    summary="Retirement certificate 注销证明 (HTML, zh-CN and English)",
)
async def certificate(retirement_id: str, request: Request) -> HTMLResponse:
    record = await retirements_store.get_retirement(runtime_of(request).pool, retirement_id)
    if record is None:
        raise UnknownRetirement()
    return HTMLResponse(render_certificate(record))


@router.get(
    "/accounts/{account_id}/holdings",
    response_model=HoldingsView,
    responses=ERRORS,
    summary="Units the account holds (available and held), by block",
)
async def holdings(
    account_id: str, request: Request, principal: Principal = Depends(require_authenticated)
) -> HoldingsView:
    pool = runtime_of(request).pool
    service.visible_account(principal, await store.get_account(pool, account_id))
    blocks = await holdings_store.holdings_of(pool, account_id)
    available = sum(h.quantity for h in blocks if h.state == "available")
    held = sum(h.quantity for h in blocks if h.state == "held")
    purposes = await holdings_store.hold_purposes(pool, [h.hold_id for h in blocks if h.hold_id])
    held_for: dict[str, int] = {}
    for h in blocks:
        if h.hold_id is not None:
            purpose = purposes.get(h.hold_id, "held")
            held_for[purpose] = held_for.get(purpose, 0) + h.quantity
    return HoldingsView(
        account=account_id,
        total=available + held,
        available=available,
        held=held,
        held_for=held_for,
        blocks=[
            HoldingBlock(
                serial=format_block(h.batch_id, h.start, h.end),
                batch_id=h.batch_id,
                start=h.start,
                end=h.end,
                quantity=h.quantity,
                vintage=h.vintage,
                state=h.state,
                hold_id=h.hold_id,
            )
            for h in blocks
        ],
    )
