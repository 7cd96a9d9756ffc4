"""Transfers, retirements and cancellations: select units, split blocks, record the movement.

One code path for all three: `split_units` applies the selection rule (or the exact serials) to
the source account's available blocks in the transaction's book and returns the splits that move
the units; the decision (`decisions.Decision`) carries them with the event, and `decisions.run`
applies them. A refusal raises before anything changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, NamedTuple

from libs.events.catalog import Prepared
from libs.events.contract.registry import CreditsCancelled, CreditsRetired, CreditsTransferred
from libs.events.store import EventTransaction
from libs.problems import Problem
from libs.servicekit.auth import Principal
from services.registry import retirements_store
from services.registry.access import check_open, check_owned
from services.registry.decisions import Decision, Emit, run
from services.registry.domain import ledger
from services.registry.domain.book import AccountPartlyRead
from services.registry.domain.errors import (
    CriteriaMatchNothing,
    InsufficientUnits,
    MalformedSerialProblem,
    SameAccount,
    SameDayResale,
    UnitsUnavailable,
)
from services.registry.domain.serials import Block, MalformedSerial, format_block
from services.registry.provenance import MovementData
from services.registry.schemas import (
    CancelCredits,
    CancellationView,
    RetireCredits,
    TransferCredits,
    TransferView,
    UnitSelection,
)
from services.registry.workbook import MoveHint, NeedsRead, Work


class Transferred(NamedTuple):
    """A transfer done: its `TransferView` is built from this on demand (`view`), so that a
    bulk request builds its 10,000 views while PostgreSQL writes the last chunk instead of
    between the commands (~20 ms of Python that used to delay every chunk)."""

    id: str
    from_account: str
    to_account: str
    quantity: int
    moved: list[ledger.Holding]

    def view(self) -> dict[str, Any]:
        """The `TransferView` as JSON-ready data."""
        return {
            "id": self.id,
            "from_account": self.from_account,
            "to_account": self.to_account,
            "quantity": self.quantity,
            "blocks": [block_data(h) for h in self.moved],
        }


async def transfer(
    tx: EventTransaction, principal: Principal, body: TransferCredits
) -> dict[str, Any]:
    """`POST /v1/transfers`: the `TransferView` as JSON-ready data."""
    return (await run(tx, lambda work: decide_transfer(work, principal, body))).view()


def decide_transfer(
    work: Work, principal: Principal, body: TransferCredits
) -> Decision[Transferred]:
    """A transfer, its view left to build (`Transferred.view`). The bulk path runs this
    10,000 times: the event is built as data directly (its model's shape, see `Prepared`)."""
    source, target = body.from_account, body.to_account
    if source == target:
        raise SameAccount()
    check_owned(principal, source, work.holder(source))
    check_open(target, work.account(target))
    splits = split_units(work, source, body, target, "available")
    transfer_id = f"TRF-{work.number():08d}"
    moved = [s.moved for s in splits]
    quantity, movements = units_and_movements(moved, source)
    event = {
        "transfer_id": transfer_id,
        "from_account": source,
        "to_account": target,
        "quantity": quantity,
        "movements": movements,
    }
    # No transfer record: the event is the record (`GET /v1/transfers/{id}` reads it).
    emit = Emit(f"transfer/{transfer_id}", 0, Prepared(CreditsTransferred, event), movements)
    return Decision(Transferred(transfer_id, source, target, quantity, moved), (emit,), splits)


def transfer_view(event: CreditsTransferred) -> TransferView:
    """A transfer as its event recorded it."""
    moved = [
        ledger.Holding(m.batch_id, m.start, m.end, event.to_account, "available")
        for m in event.movements
    ]
    done = Transferred(
        event.transfer_id, event.from_account, event.to_account, event.quantity, moved
    )
    return TransferView.model_validate(done.view())


def transfer_hint(body: TransferCredits) -> MoveHint:
    wanted = plain_quantity(body)
    taken = ((body.from_account, wanted),) if wanted is not None else ()
    return MoveHint((body.from_account,), (body.to_account,), wanted=taken)


def plain_quantity(selection: UnitSelection) -> int | None:
    """The units a selection takes by plain quantity (no criteria): the first blocks in
    selection order that hold them are all it can take. None for serials or criteria."""
    return selection.quantity if selection.criteria is None else None


class Retired(NamedTuple):
    """A retirement done: its record, which is its `RetirementView` as JSON-ready data."""

    record: dict[str, Any]

    def view(self) -> dict[str, Any]:
        return self.record


async def retire(tx: EventTransaction, principal: Principal, body: RetireCredits) -> dict[str, Any]:
    """`POST /v1/retirements`: the `RetirementView` as JSON-ready data."""
    return (await run(tx, lambda work: decide_retirement(work, principal, body))).view()


def decide_retirement(work: Work, principal: Principal, body: RetireCredits) -> Decision[Retired]:
    account = body.account
    check_owned(principal, account, work.holder(account))
    splits = split_units(work, account, body, None, "retired")
    retirement_id = f"RET-{work.number():08d}"
    moved = [s.moved for s in splits]
    quantity, movements = units_and_movements(moved, account)
    claim = {
        "beneficiary": body.beneficiary,
        "purpose": body.purpose,
        "claim_period": body.claim_period,
        "note": body.note,
    }
    event = {
        "retirement_id": retirement_id,
        "account": account,
        "quantity": quantity,
        **claim,
        "movements": movements,
    }
    record = {
        "id": retirement_id,
        "account": account,
        "quantity": quantity,
        **claim,
        "blocks": [block_data(h, account=account) for h in moved],
        "certificate_url": f"/v1/retirements/{retirement_id}/certificate",
    }
    emit = Emit(f"retirement/{retirement_id}", 0, Prepared(CreditsRetired, event), movements)
    rows = [(retirements_store.RETIREMENTS, [retirements_store.retirement_row(record)])]
    return Decision(Retired(record), (emit,), splits, rows=rows)


async def cancel(tx: EventTransaction, body: CancelCredits) -> CancellationView:
    """Administrative cancellation (reversal from a buffer, correction, export): terminal."""
    return await run(tx, lambda work: decide_cancellation(work, body))


def decide_cancellation(work: Work, body: CancelCredits) -> Decision[CancellationView]:
    check_open(body.account, work.holder(body.account))
    splits = split_units(work, body.account, body, None, "cancelled")
    cancellation_id = f"CNL-{work.number():08d}"
    moved = [s.moved for s in splits]
    quantity, movements = units_and_movements(moved, body.account)
    event = CreditsCancelled.model_validate(
        {
            "cancellation_id": cancellation_id,
            "account": body.account,
            "quantity": quantity,
            "reason": body.reason,
            "note": body.note,
            "movements": movements,
        }
    )
    view = CancellationView.model_validate(
        {
            "id": cancellation_id,
            "account": body.account,
            "quantity": quantity,
            "reason": body.reason,
            "blocks": [block_data(h, account=body.account) for h in moved],
        }
    )
    return Decision(view, (Emit(f"cancellation/{cancellation_id}", 0, event, movements),), splits)


def split_units(
    work: Work,
    source: str,
    selection: UnitSelection,
    to_account: str | None,
    to_state: ledger.State,
    hold_id: str | None = None,
    not_acquired_on: date | None = None,
) -> list[ledger.Split]:
    """The splits moving the selected units out of `source`'s available holdings (the
    account was read: `Work.holder`). With `not_acquired_on`, units acquired through trade
    settlement on that day are not eligible (same-day resale guard). Raises NeedsRead when
    the selection goes past what the book has read of the account, or a merge partner is
    unknown."""
    try:
        takes = _select_eligible(work, source, selection, not_acquired_on)
    except AccountPartlyRead:  # the selection needs more than was read: read the rest
        raise NeedsRead(blocks=(source,)) from None
    return splits_of(work, takes, to_account, to_state, hold_id)


def splits_of(
    work: Work,
    takes: list[ledger.Take],
    to_account: str | None,
    to_state: ledger.State,
    hold_id: str | None = None,
    acquired_on: date | None = None,
) -> list[ledger.Split]:
    """The takes' splits, their merge partners known to the book."""
    splits = [ledger.split(take, to_account, to_state, hold_id, acquired_on) for take in takes]
    work.check_neighbours(splits)
    return splits


def _select_eligible(
    work: Work, source: str, selection: UnitSelection, not_acquired_on: date | None
) -> list[ledger.Take]:
    book = work.book
    criteria = selection.criteria

    def candidates() -> Iterator[ledger.Holding]:
        return book.available(
            source,
            program=criteria.program if criteria else None,
            vintage=criteria.vintage if criteria else None,
            project=criteria.project if criteria else None,
            batch_id=criteria.batch_id if criteria else None,
        )

    def eligible() -> Iterator[ledger.Holding]:
        if not_acquired_on is None:
            return candidates()
        return (h for h in candidates() if h.acquired_on != not_acquired_on)

    try:
        return select(eligible, selection)
    except (InsufficientUnits, UnitsUnavailable, CriteriaMatchNothing) as exc:
        if not_acquired_on is not None and any(
            h.acquired_on == not_acquired_on for h in candidates()
        ):
            raise SameDayResale("units bought today can be offered for sale from tomorrow") from exc
        raise


def select(
    candidates: Callable[[], Iterator[ledger.Holding]], selection: UnitSelection
) -> list[ledger.Take]:
    """Takes from the eligible blocks `candidates()` yields in selection order."""
    if selection.serials is not None:
        try:
            ranges = [Block.parse(serial) for serial in selection.serials]
        except MalformedSerial as exc:
            raise MalformedSerialProblem(str(exc)) from exc
        try:
            return ledger.select_by_ranges(
                list(candidates()), [(b.batch_id, b.start, b.end) for b in ranges]
            )
        except ledger.UnitsNotAvailable as exc:
            raise UnitsUnavailable(str(exc)) from exc
    assert selection.quantity is not None
    try:
        return ledger.take_in_order(candidates(), selection.quantity)
    except ledger.NotEnoughUnits as exc:
        raise _not_enough(exc, selection.criteria) from exc


def _not_enough(exc: ledger.NotEnoughUnits, criteria: object) -> Problem:
    if exc.available == 0 and criteria is not None:  # no block matched at all
        return CriteriaMatchNothing("no available units in this account match the criteria")
    return InsufficientUnits(
        f"{exc.wanted} t requested, {exc.available} t available", available=exc.available
    )


def movement_data(
    moved: list[ledger.Holding], source: str | None, from_state: ledger.State = "available"
) -> list[MovementData]:
    """The `movements` of an event (`Movement`'s JSON form) for blocks moved out of `source`'s
    `from_state` — or, without a source, units that did not exist before (issued, imported)."""
    return units_and_movements(moved, source, from_state)[1]


def units_and_movements(
    moved: list[ledger.Holding], source: str | None, from_state: ledger.State = "available"
) -> tuple[int, list[MovementData]]:
    """The units in `moved` and their `movement_data`, in one pass (a transfer needs both;
    callgrind: 1.5% of a 10,000-transfer bulk request's instructions against two passes)."""
    origin = None if source is None else {"account": source, "state": from_state}
    units = 0
    movements = []
    for h in moved:
        units += h.end - h.start + 1
        movements.append(
            {
                "batch_id": h.batch_id,
                "start": h.start,
                "end": h.end,
                "from": origin,
                "to": {"account": h.account, "state": h.state},
            }
        )
    return units, movements


def block_data(holding: ledger.Holding, account: str | None = None) -> dict[str, Any]:
    """A `BlockView` as JSON-ready data."""
    return {
        "serial": format_block(holding.batch_id, holding.start, holding.end),
        "batch_id": holding.batch_id,
        "start": holding.start,
        "end": holding.end,
        "quantity": holding.end - holding.start + 1,
        "account": holding.account or account or "",
        "state": holding.state,
    }
