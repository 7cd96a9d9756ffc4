"""The book (set-wise moves in memory) against the whole-ledger reference: any sequence of moves
read lazily and written back once leaves exactly the blocks that applying each move to the full
ledger and merging everything would — and that the replay (`domain/replay.py`, which `rebuild`
and `verify` derive blocks with) derives from the moves' movements."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.domain import ledger
from services.registry.domain.book import AccountPartlyRead, Book, NeighboursUnknown
from services.registry.domain.ledger import Holding
from services.registry.domain.replay import LedgerReplay

ACCOUNTS = ["A", "B", "C"]


@st.composite
def ledgers(draw: st.DrawFn) -> list[Holding]:
    """Two batches, each cut into blocks owned by random accounts (compact, as stored)."""
    holdings = []
    for batch, vintage in VINTAGES.items():
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
        self.rows = {(h.batch_id, h.end): h for h in holdings}  # keyed as `blocks` is

    def load_account(self, book: Book, account: str, wanted: int | None = None) -> None:
        """All of the account, or (`wanted`) its first available blocks in selection order
        holding that many units — as `holdings_store.read_accounts` reads them."""
        own = sorted(
            (h for h in self.rows.values() if h.account == account), key=ledger.selection_order
        )
        if wanted is not None:
            prefix, units = [], 0
            for h in own:
                if units >= wanted:
                    break
                prefix.append(h)
                units += h.quantity
            up_to = None
            if len(prefix) < len(own):  # more blocks than were read
                last = prefix[-1]
                up_to = (last.vintage, last.batch_id, last.end)
            own = prefix
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
        book.mark_account_loaded(account, up_to if wanted is not None else None)

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
            self.rows[(h.batch_id, h.end)] = h
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
@given(ledgers(), moves, st.booleans(), st.one_of(st.none(), st.integers(1, 30)))
def test_book_moves_equal_whole_ledger_moves(
    holdings: list[Holding],
    steps: list[tuple[str, str | None, int]],
    save_midway: bool,
    read_first: int | None,
) -> None:
    """`read_first`: accounts are first read only up to that many units (as a bulk request
    reads them), and read whole when a selection goes past what was read."""
    database = FakeDatabase(holdings)
    book = Book()
    reference = list(holdings)
    replay = LedgerReplay()
    replay.apply(0, [movement(h, None) for h in holdings])
    taken: dict[str, int] = {}  # units taken from each account since it was first read
    for index, (source, target, quantity) in enumerate(steps):
        if source == target:
            continue
        if not book.has_account(source):
            database.load_account(book, source, read_first)
        # The book's own order is the selection rule's: movements take from it unsorted.
        mine = [h for h in reference if h.account == source and h.state == "available"]
        offered: list[Holding] = []
        with contextlib.suppress(AccountPartlyRead):  # what was read is offered, in order
            offered.extend(book.available(source))
        assert offered == sorted(mine, key=ledger.selection_order)[: len(offered)]
        while True:
            try:
                takes = ledger.take_in_order(book.available(source), quantity)
                break
            except AccountPartlyRead:
                # Only a selection past the units first read may need the rest.
                assert read_first is not None and taken.get(source, 0) + quantity > read_first
                database.load_account(book, source)  # the rest
            except ledger.NotEnoughUnits:
                takes = []
                break
        if not takes:  # refused: the reference has too few units as well
            assert sum(h.quantity for h in mine) < quantity
            continue
        taken[source] = taken.get(source, 0) + quantity
        state_to: ledger.State = "available" if target else "retired"
        splits = [ledger.split(t, target, state_to) for t in takes]
        ending, starting = book.unknown_around([s.removed for s in splits])
        if ending or starting:
            database.read_positions(book, ending, starting)
        book.apply(splits)
        replay.apply(index + 1, [movement(s.moved, source) for s in splits])
        reference = reference_move(reference, source, target, quantity)
        if save_midway and index % 3 == 0:
            database.write(book)
    database.write(book)
    assert sorted(database.rows.values()) == sorted(reference)
    replay.check_covers()
    assert list(replay.holdings(VINTAGES.__getitem__)) == sorted(reference)


VINTAGES = {"X": 2023, "Y": 2024}


def movement(moved: Holding, source: str | None) -> dict[str, object]:
    """A move's movement as its event records it (created units come from nowhere)."""
    origin = None if source is None else {"account": source, "state": "available"}
    return {
        "batch_id": moved.batch_id,
        "start": moved.start,
        "end": moved.end,
        "from": origin,
        "to": {"account": moved.account, "state": moved.state},
    }


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
    assert stale == []  # the row keyed (X, 10) is what is left of the source: rewritten
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
    with pytest.raises(NeighboursUnknown) as unknown:
        book.apply([take])
    assert (unknown.value.ending_at, unknown.value.starting_at) == ([("X", 10)], [("X", 21)])
    assert book.changes() == ([], [])  # nothing changed
    # The database has a block of B ending at 10 (a merge partner) and nothing from 21 on.
    book.add_read(Holding("X", 1, 10, "B", "available", 2024))
    book.settle([("X", 10)], [("X", 21)])
    assert book.unknown_around([source]) == ([], [])
    book.apply([take])
    stale, fresh = book.changes()
    assert stale == [("X", 10)]  # B's block 1..10 now ends at 12: a new key
    assert sorted(fresh) == [
        Holding("X", 1, 12, "B", "available", 2024),
        Holding("X", 13, 20, "A", "available", 2024),
    ]


def test_a_partly_read_account_offers_nothing_past_what_was_read() -> None:
    """Units that arrive in memory may sort after blocks still unread: the book must stop at
    what it read, not offer them ahead of the unread ones."""
    x = Holding("X", 1, 10, "A", "available", 2024)
    y = Holding("Y", 1, 10, "A", "available", 2024)  # unread: after X, before Z
    z = Holding("Z", 1, 5, "B", "available", 2024)
    database = FakeDatabase([x, y, z])
    book = Book()
    database.load_account(book, "A", wanted=5)  # reads X only
    database.load_account(book, "B")
    takes = ledger.take_in_order(book.available("B"), 5)
    book.apply([ledger.split(t, "A", "available") for t in takes])
    offered: list[Holding] = []
    with pytest.raises(AccountPartlyRead):
        offered.extend(book.available("A"))
    assert offered == [x]
    database.load_account(book, "A")
    assert list(book.available("A")) == [x, y, Holding("Z", 1, 5, "A", "available", 2024)]


def test_a_partly_read_account_falls_short_of_more_units_than_it_was_read_for() -> None:
    """A book kept from an earlier transaction has accounts read in part: the next batch reads
    such an account again only if what was read does not hold the units it takes (or it needs
    the whole account)."""
    x = Holding("X", 1, 10, "A", "available", 2024)
    y = Holding("Y", 1, 10, "A", "available", 2024)
    z = Holding("Z", 1, 5, "B", "available", 2024)
    database = FakeDatabase([x, y, z])
    book = Book()
    assert not book.read_short_of("A", 1)  # not read at all: read like any other account
    database.load_account(book, "A", wanted=5)  # X only
    database.load_account(book, "B")
    assert not book.read_short_of("A", 10)
    assert book.read_short_of("A", 11)
    assert book.read_short_of("A", None)
    assert not book.read_short_of("B", None)  # read whole
    book.apply([ledger.split(ledger.Take(x, 1, 4), "B", "available")])  # X 5–10 left read
    assert not book.read_short_of("A", 6)
    assert book.read_short_of("A", 7)
    database.load_account(book, "A", wanted=20)  # X and Y: the whole account
    assert not book.read_short_of("A", None)


def test_a_book_is_saved_once_its_changes_are_written_and_only_grows() -> None:
    x = Holding("X", 1, 10, "A", "available", 2024)
    database = FakeDatabase([x])
    book = Book()
    database.load_account(book, "A")
    assert book.is_saved()
    size = book.size()
    book.apply([ledger.split(ledger.Take(x, 1, 4), "B", "available")])
    assert not book.is_saved()
    book.changes()
    book.saved()
    assert book.is_saved()
    assert book.size() > size  # the two new blocks' keys; none forgotten


def test_a_new_batch_is_known_to_its_edges() -> None:
    """The blocks of a new batch (issuance: the holder's and the buffer's share) are all of
    it: a move from them needs no neighbours read, and merges back across the two shares."""
    holder = Holding("N", 101, 150, "A", "available", 2024)
    buffer = Holding("N", 151, 160, "BUF", "available", 2024)
    book = Book()
    book.add_new([holder, buffer])
    assert book.unknown_around([holder, buffer]) == ([], [])
    book.apply([ledger.split(ledger.Take(holder, 101, 105), "C", "available")])
    book.apply([ledger.split(ledger.Take(buffer, 151, 160), "A", "available")])
    stale, fresh = book.changes()
    assert stale == []
    assert fresh == [
        Holding("N", 101, 105, "C", "available", 2024),
        Holding("N", 106, 160, "A", "available", 2024),  # merged with the buffer's share
    ]
