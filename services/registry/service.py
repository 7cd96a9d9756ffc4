"""Registry use cases. Each command runs in one writer transaction: it checks the current
state, appends its events and updates the projections, all or nothing."""

from __future__ import annotations

from libs.events.contract.registry import (
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    CreditsIssued,
)
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.auth import Principal
from services.registry import pledges, store
from services.registry.access import check_open
from services.registry.decisions import Decision, Emit, NewBatch, run
from services.registry.domain.errors import (
    AccountStatusUnchanged,
    BatchAlreadyIssued,
    InvalidIssuance,
    OwnerNotAllowed,
    UnknownAccount,
)
from services.registry.domain.ledger import Holding
from services.registry.domain.serials import (
    AGRICULTURE_SCOPE,
    BatchId,
    plan_issuance,
)
from services.registry.movements import block_data, movement_data
from services.registry.schemas import (
    AccountView,
    BlockView,
    IssuanceView,
    IssueCredits,
    OpenAccount,
)
from services.registry.workbook import work_of

READ_ALL_ROLES = ("registry_admin", "auditor", "regulator")


def account_owner_for(principal: Principal, body: OpenAccount) -> str:
    owner = body.owner or principal.org
    if owner is None:
        raise OwnerNotAllowed("your token names no organisation; give an owner")
    if owner != principal.org and not principal.has_any("registry_admin"):
        raise OwnerNotAllowed(f"you act for {principal.org!r}, not {owner!r}")
    return owner


async def open_account(tx: EventTransaction, owner: str, body: OpenAccount) -> AccountView:
    account_id = await store.next_account_id(tx)
    event = AccountOpened(
        account_id=account_id, owner=owner, name=body.name, kind=body.kind, program=body.program
    )
    await tx.append(f"account/{account_id}", 0, [event])
    await store.insert_account(tx, account_id, owner, body.name, body.kind, body.program)
    work_of(tx).forget_account(account_id)
    return AccountView(
        id=account_id,
        owner=owner,
        name=body.name,
        kind=body.kind,
        program=body.program,
        status="open",
    )


def visible_account(principal: Principal, account: AccountView | None) -> AccountView:
    """404 (never 403) for accounts of other organisations, so ids cannot be probed."""
    if account is None or not can_read(principal, account):
        raise UnknownAccount()
    return account


def can_read(principal: Principal, account: AccountView | None) -> bool:
    return account is not None and (
        account.owner == principal.org or principal.has_any(*READ_ALL_ROLES)
    )


REGISTRY_ORG = "REGISTRY"


async def freeze(tx: EventTransaction, account_id: str, frozen: bool, reason: str) -> AccountView:
    account = await store.get_account_for_update(tx, account_id)
    if account is None:
        raise UnknownAccount()
    wanted = "frozen" if frozen else "open"
    if account.status == wanted:
        raise AccountStatusUnchanged(f"account {account_id} is already {wanted}")
    event = (AccountFrozen if frozen else AccountUnfrozen)(account_id=account_id, reason=reason)
    await tx.append(f"account/{account_id}", ANY_VERSION, [event])
    await store.set_account_status(tx, account_id, wanted)
    work_of(tx).forget_account(account_id)
    return account.model_copy(update={"status": wanted})


async def buffer_account_for(tx: EventTransaction, program: str) -> str:
    """The program's buffer account (non-permanence reserve), opened on first use."""
    account_id = f"BUF-{program}"
    if await store.get_account(tx, account_id) is None:
        event = AccountOpened(
            account_id=account_id,
            owner=REGISTRY_ORG,
            name=f"{program} buffer 缓冲账户",
            kind="buffer",
            program=program,
        )
        await tx.append(f"account/{account_id}", 0, [event])
        await store.insert_account(tx, account_id, REGISTRY_ORG, event.name, "buffer", program)
        work_of(tx).forget_account(account_id)
    return account_id


async def issue(tx: EventTransaction, body: IssueCredits) -> IssuanceView:
    if body.buffer_quantity > body.quantity:
        raise InvalidIssuance("buffer_quantity cannot exceed quantity")
    if body.buffer_quantity and body.buffer_account is None:
        body = body.model_copy(
            update={"buffer_account": await buffer_account_for(tx, body.program)}
        )
    await _receiving_account(tx, body.account)
    if body.buffer_account is not None:
        await _receiving_account(tx, body.buffer_account)
    batch = await _batch_id(tx, body)
    first = await store.last_unit(tx, body.project) + 1
    try:
        holder, buffer = plan_issuance(str(batch), first, body.quantity, body.buffer_quantity)
    except ValueError as exc:
        raise InvalidIssuance(str(exc)) from exc
    placed = [(holder, body.account), (buffer, body.buffer_account)]
    holdings = [
        Holding(str(batch), block.start, block.end, account, "available", body.vintage)
        for block, account in placed
        if block is not None and account is not None
    ]
    moved = movement_data(holdings, None)
    last = first + body.quantity - 1
    event = CreditsIssued.model_validate(
        {
            "batch_id": str(batch),
            "program": body.program,
            "scope": batch.scope,
            "project": body.project,
            "vintage": body.vintage,
            "start": first,
            "end": last,
            "quantity": body.quantity,
            "account": body.account,
            "buffer_account": body.buffer_account,
            "buffer_quantity": body.buffer_quantity,
            "movements": moved,
        }
    )
    blocks = [BlockView.model_validate(block_data(h)) for h in holdings]
    view = IssuanceView(batch_id=str(batch), blocks=blocks)
    new = NewBatch(holdings, body.program, body.project)
    emit = Emit(f"batch/{batch}", 0, event, moved)
    await run(tx, lambda _: Decision(view, (emit,), new=new))  # new units: nothing to read
    await store.insert_batch(
        tx,
        str(batch),
        body.program,
        batch.scope,
        body.project,
        body.vintage,
        batch.seq,
        first,
        last,
    )
    if holder is not None:  # the developer's units may be pledged to a lender (pledges.py)
        await pledges.on_issuance(tx, body.project, body.account, str(batch), holder.quantity)
    return view


async def _receiving_account(tx: EventTransaction, account_id: str) -> AccountView:
    return check_open(account_id, await store.get_account(tx, account_id))


async def _batch_id(tx: EventTransaction, body: IssueCredits) -> BatchId:
    if body.batch_id is None:
        seq = await store.next_batch_seq(tx, body.program, body.project, body.vintage)
        return BatchId(body.program, AGRICULTURE_SCOPE, body.project, body.vintage, seq)
    try:
        batch = BatchId.parse(body.batch_id)
    except ValueError as exc:
        raise InvalidIssuance(str(exc)) from exc
    if (batch.program, batch.project, batch.vintage) != (body.program, body.project, body.vintage):
        raise InvalidIssuance("batch_id does not match program, project and vintage")
    if await store.batch_exists(tx, str(batch)):
        raise BatchAlreadyIssued(f"{batch} was already issued")
    return batch
