"""Registry decisions without a database: a `Work` seeded the way a read fills it, then the
plain synchronous decision — what it decides, what it refuses, what it asks to read first.
Milliseconds each; the runner and the database are covered by the e2e and integration suites."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events.memory_store import InMemoryEventStore
from libs.problems import Problem
from libs.servicekit.auth import Principal
from services.registry.domain.ledger import Holding
from services.registry.domain.replay import LedgerReplay
from services.registry.holdings_store import Read
from services.registry.holds import decide_place, decide_release
from services.registry.movements import decide_retirement, decide_transfer
from services.registry.retirements_store import RETIREMENTS
from services.registry.schemas import PlaceHold, RetireCredits, TransferCredits
from services.registry.workbook import NeedsRead, Work

BATCH = "YRDPH-15-QP0001-2024-001"
COOP = Principal("u1", "COOP", frozenset({"account_holder"}))


def account(account_id: str, owner: str, status: str = "open") -> dict[str, object]:
    return {"id": account_id, "owner": owner, "name": account_id, "kind": "holding",
            "program": None, "status": status}  # fmt: skip


def seeded(*extra: Holding) -> Work:
    """ACC-A (COOP's) holds units 1..100 of one batch; ACC-B (ENT's) nothing; numbers 7, 8, 9."""
    work = Work()
    own = [(Holding(BATCH, 1, 100, "ACC-A", "available", 2024), "YRDPH", "QP0001")]
    own += [(h, "YRDPH", "QP0001") for h in extra]
    accounts = {"ACC-A": account("ACC-A", "COOP"), "ACC-B": account("ACC-B", "ENT")}
    work.absorb(Read(own, [], accounts, [7, 8, 9]), ["ACC-A", "ACC-B"], ["ACC-A", "ACC-B"])
    return work


def test_a_transfer_decides_its_splits_and_event_and_changes_nothing() -> None:
    work = seeded()
    body = TransferCredits(from_account="ACC-A", to_account="ACC-B", quantity=30)
    decision = decide_transfer(work, COOP, body)
    assert [s.moved for s in decision.splits] == [Holding(BATCH, 1, 30, "ACC-B", "available", 2024)]
    (emit,) = decision.emits
    assert emit.stream == "transfer/TRF-00000007"
    assert emit.payload.to_data()["quantity"] == 30  # type: ignore[union-attr]
    assert decision.result.view()["blocks"][0]["serial"] == f"{BATCH}-000000001-000000030"
    assert sum(h.quantity for h in work.book.available("ACC-A")) == 100  # not applied yet
    work.book.apply(decision.splits)  # what the runner does
    assert sum(h.quantity for h in work.book.available("ACC-B")) == 30


@pytest.mark.parametrize(
    ("body", "principal", "slug"),
    [
        (TransferCredits(from_account="ACC-A", to_account="ACC-B", quantity=101), COOP,
         "insufficient-units"),
        (TransferCredits(from_account="ACC-A", to_account="ACC-A", quantity=1), COOP,
         "same-account"),
        (TransferCredits(from_account="ACC-B", to_account="ACC-A", quantity=1), COOP,
         "unknown-account"),  # not COOP's: as unknown, so ids cannot be probed
    ],
)  # fmt: skip
def test_a_refused_transfer_raises_its_problem(
    body: TransferCredits, principal: Principal, slug: str
) -> None:
    work = seeded()
    with pytest.raises(Problem) as refused:
        decide_transfer(work, principal, body)
    assert refused.value.slug == slug
    assert sum(h.quantity for h in work.book.available("ACC-A")) == 100


def test_what_was_not_read_is_asked_for() -> None:
    work = seeded()
    body = TransferCredits(from_account="ACC-A", to_account="ACC-C", quantity=1)
    with pytest.raises(NeedsRead) as need:
        decide_transfer(work, COOP, body)
    assert list(need.value.rows) == ["ACC-C"]
    with pytest.raises(NeedsRead) as need:
        decide_release(work, COOP, "HLD-00000001", "released")
    assert list(need.value.holds) == ["HLD-00000001"]


def test_a_retirement_defers_its_record() -> None:
    work = seeded()
    body = RetireCredits(
        account="ACC-A", quantity=5, beneficiary="某公司", purpose="voluntary_offset"
    )
    decision = decide_retirement(work, COOP, body)
    ((table, rows),) = decision.rows
    assert table is RETIREMENTS and rows[0][:3] == ("RET-00000007", "ACC-A", 5)
    assert [s.moved.state for s in decision.splits] == ["retired"]


def test_a_hold_then_its_release_in_one_work() -> None:
    work = seeded()
    body = PlaceHold(account="ACC-A", quantity=10, purpose="pledge", holder="BANK")
    placed = decide_place(work, COOP, body)
    work.book.apply(placed.splits)
    for hold in placed.holds:
        work.put_hold(hold)
    assert placed.result.id == "HLD-00000007" and placed.result.quantity == 10
    bank = Principal("u2", "BANK", frozenset({"account_holder"}))
    released = decide_release(work, bank, placed.result.id, "released")
    assert released.holds[0]["status"] == "released"
    assert [s.moved.state for s in released.splits] == ["available"]
    with pytest.raises(Problem) as refused:  # only the holder releases
        decide_release(work, COOP, placed.result.id, "released")
    assert refused.value.slug == "unknown-hold"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["ACC-A", "ACC-B"]), st.sampled_from(["ACC-A", "ACC-B", None]),
                  st.integers(1, 60)),
        max_size=15,
    )
)  # fmt: skip
def test_the_log_of_the_decisions_replays_to_the_book(moves: list[tuple]) -> None:
    """Transfers and retirements decided on a work, their events appended to the in-memory
    event store: replaying that log through the block projector (`domain/replay.py`) gives
    every account the units the book holds. No database: milliseconds per sequence."""
    work, log = seeded(), InMemoryEventStore("registry")
    work.absorb(Read([], [], {}, list(range(100, 130))), [], [])  # numbers for every move
    owners = {"ACC-A": COOP, "ACC-B": Principal("u3", "ENT", frozenset({"account_holder"}))}

    async def run_all() -> None:
        for source, target, quantity in moves:
            if source == target:
                continue
            try:
                if target is None:
                    retire = RetireCredits(
                        account=source,
                        quantity=quantity,
                        beneficiary="b",
                        purpose="voluntary_offset",
                    )
                    decision: Any = decide_retirement(work, owners[source], retire)
                else:
                    body = TransferCredits(
                        from_account=source, to_account=target, quantity=quantity
                    )
                    decision = decide_transfer(work, owners[source], body)
            except Problem:
                continue
            work.book.apply(decision.splits)
            for emit in decision.emits:
                await log.append(emit.stream, emit.expected_version, [emit.payload])

    asyncio.run(run_all())
    replay = LedgerReplay()
    replay.apply(0, [{"batch_id": BATCH, "start": 1, "end": 100, "from": None,
                      "to": {"account": "ACC-A", "state": "available"}}])  # fmt: skip
    for envelope in asyncio.run(log.read_after(0, 10_000)):
        replay.apply(envelope.sequence, envelope.data["movements"])
    replay.check_covers()
    replayed: dict[tuple[str | None, str], int] = {}
    for h in replay.holdings():
        replayed[(h.account, h.state)] = replayed.get((h.account, h.state), 0) + h.quantity
    for account in ("ACC-A", "ACC-B"):
        in_book = sum(h.quantity for h in work.book.available(account))
        assert replayed.get((account, "available"), 0) == in_book
    assert sum(replayed.values()) == 100
