"""The registry's unit of work: one `Book` of blocks per transaction, read in few round trips.

Decisions (`decisions.py`) ask the work for accounts, holds and operation numbers, synchronously;
what is not read yet raises `NeedsRead`, which the runner reads. The batch's first read reads for
every command of the batch at once (their `MoveHint`s), so a batch of transfers costs one read,
its moves happen in memory, and the flush writes every changed block in one statement.
Everything in a writer transaction that reads or writes blocks goes through here, so the book
stays the one current view of the blocks it has read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from libs.events.store import EventTransaction
from libs.events.unit_of_work import Deferrals
from services.registry import holdings_store
from services.registry.domain.book import Book, Position
from services.registry.domain.ledger import Holding, Split
from services.registry.schemas import AccountView

_KEY = "registry.book"


class NeedsRead(Exception):
    """A decision met something not read yet: `decisions.run` reads it, then decides again."""

    def __init__(
        self,
        rows: Sequence[str] = (),
        blocks: Sequence[str] = (),
        holds: Sequence[str] = (),
        numbers: int = 0,
        ending_at: Sequence[Position] = (),
        starting_at: Sequence[Position] = (),
    ) -> None:
        super().__init__()
        self.rows, self.blocks, self.holds, self.numbers = rows, blocks, holds, numbers
        self.ending_at, self.starting_at = ending_at, starting_at


@dataclass(frozen=True, slots=True)
class MoveHint:
    """What a command will touch: accounts whose units it moves, accounts it only names."""

    holders: tuple[str, ...]
    others: tuple[str, ...] = ()
    numbers: int = 1  # operation numbers it will draw
    # Units it takes by plain quantity (no criteria, no serials) from each holder: only that
    # many are read up front. Holders not named here are read whole.
    wanted: tuple[tuple[str, int], ...] = ()
    holds: tuple[str, ...] = ()  # holds it releases or executes (rows and blocks read up front)


# A book is kept between transactions up to this many blocks and positions seen (the
# benchmark's grew to 11,000–20,000); a larger one is dropped and the next transaction reads
# what it needs again.
KEPT_BOOK_LIMIT = 200_000


class Work:
    def __init__(self, kept: object = None) -> None:
        # The book the process's last transaction committed, if this one may build on it
        # (`EventTransaction.take_kept`): what it knows needs no reading again.
        self.book = kept if isinstance(kept, Book) else Book()
        self._accounts: dict[str, AccountView | None] = {}
        self._numbers: list[int] = []
        self._drawn: list[int] = []  # by the decision under way (`mark`, `undo`)
        self._hints_read = False
        self._holds: dict[str, dict[str, Any] | None] = {}  # hold rows as read or changed
        self._changed_holds: dict[str, dict[str, Any]] = {}  # to write at the next flush

    def flush(self, tx: Deferrals) -> None:
        stale, fresh = self.book.changes()
        holdings_store.replace_blocks(tx, stale, fresh)
        self.book.saved()
        if self._changed_holds:
            holdings_store.write_holds(tx, list(self._changed_holds.values()))
            self._changed_holds.clear()

    def kept(self) -> Book | None:
        """After the commit: the book, now exactly the stored blocks it knows, for the next
        transaction. Only the book — account and hold rows are read again (they change outside
        it: freezes, expiries)."""
        book = self.book
        return book if book.is_saved() and book.size() <= KEPT_BOOK_LIMIT else None

    # -- what decisions see (`decisions.run`): NeedsRead for what is not read yet -------------

    def account(self, account_id: str) -> AccountView | None:
        """The account's row (None: no such account)."""
        try:
            return self._accounts[account_id]
        except KeyError:
            raise NeedsRead(rows=(account_id,)) from None

    def holder(self, account_id: str) -> AccountView | None:
        """The account's row, its blocks in the book (units move out of it)."""
        if account_id not in self._accounts or not self.book.has_account(account_id):
            raise NeedsRead(rows=(account_id,), blocks=(account_id,))
        return self._accounts[account_id]

    def hold(self, hold_id: str) -> dict[str, Any] | None:
        """The hold's row (None if unknown), its held blocks in the book."""
        try:
            return self._holds[hold_id]
        except KeyError:
            raise NeedsRead(holds=(hold_id,)) from None

    def hold_blocks(self, hold_id: str) -> list[Holding]:
        """The blocks a hold holds, lowest first (the hold was read with `hold`)."""
        return self.book.held_by(hold_id)

    def number(self) -> int:
        """A fresh operation number (drawn ahead for the batch's hinted commands)."""
        if not self._numbers:
            raise NeedsRead(numbers=1)
        number = self._numbers.pop()
        self._drawn.append(number)
        return number

    def check_neighbours(self, splits: Sequence[Split]) -> None:
        """The blocks next to those the splits cut are known (merge partners), or NeedsRead."""
        ending, starting = self.book.unknown_around([s.removed for s in splits])
        if ending or starting:
            raise NeedsRead(ending_at=tuple(ending), starting_at=tuple(starting))

    def start_decision(self) -> None:
        """A decision starts: the numbers it draws are noted, for `undo_decision`."""
        self._drawn.clear()

    def undo_decision(self) -> None:
        """The decision did not stand (it needs a read first, or refused): its numbers go back."""
        while self._drawn:
            self._numbers.append(self._drawn.pop())

    # -- reads -------------------------------------------------------------------------------

    async def read(self, tx: EventTransaction, need: NeedsRead) -> None:
        """What a decision found missing, in one round trip (two for neighbours)."""
        await self._read(tx, list(need.rows), list(need.blocks), need.numbers, need.holds)
        if need.ending_at or need.starting_at:
            await self._read_positions(tx, list(need.ending_at), list(need.starting_at))

    async def read_hinted(self, tx: EventTransaction) -> None:
        """The batch's first read now, before any command decides (`tx.hints`: see `_read`)."""
        if not self._hints_read:
            await self._read(tx, [], [], numbers=0)

    async def read_holds(self, tx: EventTransaction, hold_ids: Sequence[str]) -> None:
        """Read these holds now, all at once (e.g. every expired hold: two statements)."""
        missing = [h for h in hold_ids if h not in self._holds]
        if missing:
            await self._read(tx, [], [], numbers=0, holds=missing)

    def put_hold(self, record: dict[str, Any]) -> None:
        """A hold placed or changed by this transaction: written at the next flush; a new
        hold's blocks are the book's (moved in memory)."""
        self._holds[record["id"]] = record
        self._changed_holds[record["id"]] = record
        self.book.mark_hold_loaded(record["id"])

    def forget_account(self, account: str) -> None:
        """The account's row changed (opened, frozen, unfrozen): read it again when asked."""
        self._accounts.pop(account, None)

    # -- writes ------------------------------------------------------------------------------

    def add_new(self, holdings: Sequence[Holding], program: str, project: str) -> None:
        """All the blocks of a new batch (`Book.add_new`)."""
        for holding in holdings:
            self.book.batches[holding.batch_id] = (program, project)
        self.book.add_new(holdings)

    # -- internals ---------------------------------------------------------------------------

    async def _read(
        self,
        tx: EventTransaction,
        rows: list[str],
        blocks: list[str],
        numbers: int,
        holds: Sequence[str] = (),
    ) -> None:
        rows, blocks, holds = list(rows), list(blocks), list(holds)  # the callers' stay as given
        wanted: dict[str, int] = {}
        if not self._hints_read:  # the first read also reads for the rest of the batch
            self._hints_read = True
            hints = [h for h in tx.hints if isinstance(h, MoveHint)]
            for hint in hints:
                rows += [a for a in (*hint.holders, *hint.others) if a not in self._accounts]
                blocks += [a for a in hint.holders if not self.book.has_account(a)]
                holds += [h for h in hint.holds if h not in self._holds]
                numbers += hint.numbers
            wanted = _wanted(hints)
            blocks += self._read_too_little(hints, wanted)
        if holds:  # holds first: they lock their rows, then the blocks (as one command did)
            await self._read_holds(tx, sorted(set(holds)))
        if not (rows or blocks or numbers):
            return
        rows, blocks = sorted(set(rows)), sorted(set(blocks))
        wanted = {a: wanted[a] for a in blocks if a in wanted}
        read = await holdings_store.read_accounts(tx, rows, blocks, numbers, wanted)
        self.absorb(read, rows, blocks)

    def absorb(self, read: holdings_store.Read, rows: Sequence[str], blocks: Sequence[str]) -> None:
        """What `holdings_store.read_accounts` read for `rows` (account rows) and `blocks`
        (accounts whose blocks it read), into the work. (Tests seed a work this way too.)"""
        for account in rows:
            found = read.accounts.get(account)
            self._accounts[account] = AccountView(**found) if found else None
        self._numbers.extend(reversed(read.numbers))
        self._take(read)
        for account in blocks:
            self.book.mark_account_loaded(account, read.read_up_to.get(account))

    def _read_too_little(self, hints: list[MoveHint], wanted: dict[str, int]) -> list[str]:
        """Holders the book (kept from an earlier transaction) has read only in part, and not
        as far as the batch needs: fewer units than it takes by quantity, or not whole when it
        takes otherwise. Read again now, or each would cost a round trip mid-command."""
        short = self.book.read_short_of
        holders = {a for hint in hints for a in hint.holders}
        return [a for a in holders if short(a, wanted.get(a))]

    async def _read_holds(self, tx: EventTransaction, hold_ids: list[str]) -> None:
        found, read = await holdings_store.read_holds(tx, hold_ids)
        self._take(read)
        for hold_id in hold_ids:
            self._holds[hold_id] = found.get(hold_id)
            self.book.mark_hold_loaded(hold_id)

    def _take(self, read: holdings_store.Read) -> None:
        fresh = []
        for holding, program, project in read.own:
            self.book.batches[holding.batch_id] = (program, project)
            if self.book.add_read(holding):
                fresh.append(holding)
        for holding in read.around:
            self.book.add_read(holding)
        # The read looked for the neighbours of every block it returned.
        self.book.settle(*self.book.unknown_around(fresh))

    async def _read_positions(
        self, tx: EventTransaction, ending_at: list[Position], starting_at: list[Position]
    ) -> None:
        for holding in await holdings_store.read_positions(tx, ending_at, starting_at):
            self.book.add_read(holding)
        self.book.settle(ending_at, starting_at)


def _wanted(hints: list[MoveHint]) -> dict[str, int]:
    """Units the batch takes by plain quantity from each holder; a holder some command moves
    units from in another way (criteria, serials, unhinted) is read whole."""
    wanted: dict[str, int] = {}
    whole: set[str] = set()
    for hint in hints:
        counted = dict(hint.wanted)
        for account in hint.holders:
            if account in counted:
                wanted[account] = wanted.get(account, 0) + counted[account]
            else:
                whole.add(account)
    return {a: units for a, units in wanted.items() if a not in whole}


def work_of(tx: EventTransaction) -> Work:
    return tx.work(_KEY, lambda: Work(tx.take_kept(_KEY)))
