"""The book (set-wise moves in memory) against the whole-ledger reference: any sequence of moves
read lazily and written back once leaves exactly the blocks that applying each move to the full
ledger and merging everything would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.domain import ledger
from services.registry.domain.book import Book
from services.registry.domain.ledger import Holding

ACCOUNTS = ["A", "B", "C"]


@st.composite
def ledgers(draw: st.DrawFn) -> list[Holding]:
    """Two batches, each cut into blocks owned by random accounts (compact, as stored)."""
    holdings = []
    for batch, vintage in (("X", 2023), ("Y", 2024)):
        size = draw(st.integers(1, 40))
        cuts = sorted(draw(st.sets(st.integers(2, size), max_size=6))) if size > 1 else []
        starts = [1, *cuts]
        ends = [c - 1 for c in cuts] + [size]
        for start, end in zip(starts, ends, strict=True):
            owner = draw(st.sampled_from(ACCOUNTS))
            holdings.append(Holding(batch, start, end, owner, "available", vintage))
    return ledger.merge_adjacent(holdings)


moves = st.lists(
    st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from([*ACCOUNTS, None]), st.integers(1, 30)),
    max_size=12,
)


class FakeDatabase:
    """The stored blocks (the state before the transaction) and the book's two kinds of read."""

    def __init__(self, holdings: list[Holding]) -> None:
        self.rows = {(h.batch_id, h.start): h for h in holdings}

    def load_account(self, book: Book, account: str) -> None:
        own = [h for h in self.rows.values() if h.account == account]
        fresh = []
        for h in own:
            book.batches[h.batch_id] = ("P", "Q")
            if book.add_read(h):
                fresh.append(h)
        for h in own:
            for n in self.rows.values():
                if n.batch_id == h.batch_id and (n.end == h.start - 1 or n.start == h.end + 1):
                    book.add_read(n)
        book.settle(*book.unknown_around(fresh))
        book.mark_account_loaded(account)

    def read_positions(self, book: Book, ending: list[tuple[str, int]], starting: list) -> None:
        for h in self.rows.values():
            if (h.batch_id, h.end) in ending or (h.batch_id, h.start) in starting:
                book.add_read(h)
        book.settle(ending, starting)

    def write(self, book: Book) -> None:
        stale, fresh = book.changes()
        for key in stale:
            del self.rows[key]
        for h in fresh:
            self.rows[(h.batch_id, h.start)] = h
        book.saved()


def reference_move(
    state: list[Holding], source: str, target: str | None, quantity: int
) -> list[Holding]:
    mine = [h for h in state if h.account == source and h.state == "available"]
    takes = ledger.select_by_quantity(mine, quantity)
    state_to = "available" if target else "retired"
    splits = [ledger.split(t, target, state_to) for t in takes]
    removed = {s.removed for s in splits}
    rest = [h for h in state if h not in removed]
    pieces = [p for s in splits for p in (*s.remainders, s.moved)]
    return ledger.merge_adjacent([*rest, *pieces])


@settings(max_examples=300, deadline=None)
@given(ledgers(), moves, st.booleans())
def test_book_moves_equal_whole_ledger_moves(
    holdings: list[Holding], steps: list[tuple[str, str | None, int]], save_midway: bool
) -> None:
    database = FakeDatabase(holdings)
    book = Book()
    reference = list(holdings)
    for index, (source, target, quantity) in enumerate(steps):
        if source == target:
            continue
        if not book.has_account(source):
            database.load_account(book, source)
        # The book's own order is the selection rule's: movements take from it unsorted.
        offered = list(book.available(source))
        mine = [h for h in reference if h.account == source and h.state == "available"]
        assert offered == sorted(mine, key=ledger.selection_order)
        try:
            takes = ledger.take_in_order(offered, quantity)
        except ledger.NotEnoughUnits:
            continue  # the reference refuses it too (checked below by equal states)
        state_to: ledger.State = "available" if target else "retired"
        splits = [ledger.split(t, target, state_to) for t in takes]
        ending, starting = book.unknown_around([s.removed for s in splits])
        if ending or starting:
            database.read_positions(book, ending, starting)
        book.apply(splits)
        reference = reference_move(reference, source, target, quantity)
        if save_midway and index % 3 == 0:
            database.write(book)
    database.write(book)
    assert sorted(database.rows.values()) == sorted(reference)


def test_a_row_read_again_after_a_change_is_ignored() -> None:
    stored = Holding("X", 1, 10, "A", "available", 2024)
    book = Book()
    assert book.add_read(stored)
    book.settle(*book.unknown_around([stored]))
    book.mark_account_loaded("A")
    take = ledger.Take(stored, 1, 4)
    book.apply([ledger.split(take, "B", "available")])
    assert not book.add_read(stored)  # the database still has 1..10; the book knows better
    assert list(book.available("A")) == [Holding("X", 5, 10, "A", "available", 2024)]
    stale, fresh = book.changes()
    assert stale == []  # key (X, 1) is rewritten, not deleted
    assert sorted(fresh) == [
        Holding("X", 1, 4, "B", "available", 2024),
        Holding("X", 5, 10, "A", "available", 2024),
    ]


def test_neighbours_the_book_has_not_read_are_named_and_required_before_a_move() -> None:
    source = Holding("X", 11, 20, "A", "available", 2024)
    book = Book()
    book.add_read(source)  # read without its neighbours
    book.mark_account_loaded("A")
    assert book.unknown_around([source]) == ([("X", 10)], [("X", 21)])
    take = ledger.split(ledger.Take(source, 11, 12), "B", "available")
    with pytest.raises(AssertionError, match="neighbours not read"):
        book.apply([take])
    # The database has a block of B ending at 10 (a merge partner) and nothing from 21 on.
    book.add_read(Holding("X", 1, 10, "B", "available", 2024))
    book.settle([("X", 10)], [("X", 21)])
    assert book.unknown_around([source]) == ([], [])
    book.apply([take])
    stale, fresh = book.changes()
    assert stale == [("X", 11)]  # merged into B's block from 1
    assert sorted(fresh) == [
        Holding("X", 1, 12, "B", "available", 2024),
        Holding("X", 13, 20, "A", "available", 2024),
    ]
