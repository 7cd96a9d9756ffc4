"""The registry's unit of work: one `Book` of blocks per transaction, read in few round trips.

Commands ask the work for accounts, holds and operation numbers; the first ask reads for every
command of the batch at once (their `MoveHint`s), so a batch of transfers costs one read, its
moves happen in memory, and the flush writes every changed block in one statement. Everything in
a writer transaction that reads or writes blocks goes through here, so the book stays the one
current view of the blocks it has read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from libs.events.store import EventTransaction
from services.registry import holdings_store
from services.registry.domain.book import Book, NeighboursUnknown, Position
from services.registry.domain.ledger import Holding, Split
from services.registry.schemas import AccountView

_KEY = "registry.book"


@dataclass(frozen=True, slots=True)
class MoveHint:
    """What a command will touch: accounts whose units it moves, accounts it only names."""

    holders: tuple[str, ...]
    others: tuple[str, ...] = ()
    numbers: int = 1  # operation numbers it will draw
    # Units it takes by plain quantity (no criteria, no serials) from each holder: only that
    # many are read up front. Holders not named here are read whole.
    wanted: tuple[tuple[str, int], ...] = ()


class Work:
    def __init__(self) -> None:
        self.book = Book()
        self._accounts: dict[str, AccountView | None] = {}
        self._numbers: list[int] = []
        self._hints_read = False

    def flush(self, tx: EventTransaction) -> None:
        stale, fresh = self.book.changes()
        holdings_store.replace_blocks(tx, stale, fresh)
        self.book.saved()

    # -- reads -------------------------------------------------------------------------------

    async def accounts(
        self, tx: EventTransaction, holders: Sequence[str], others: Sequence[str] = ()
    ) -> Mapping[str, AccountView | None]:
        """The named accounts (None if unknown); the blocks of `holders` are in the book.
        (The mapping may name more accounts than were asked for.)"""
        known, loaded = self._accounts, self.book.has_account
        need_rows = [a for a in (*holders, *others) if a not in known]
        need_blocks = [a for a in holders if not loaded(a)]
        if need_rows or need_blocks:
            await self._read(tx, need_rows, need_blocks, numbers=0)
        return known

    async def hold_blocks(self, tx: EventTransaction, hold_id: str, account: str) -> list[Holding]:
        """The blocks a hold holds, lowest first."""
        if not self.book.has_hold(hold_id):
            if not self.book.has_account(account):  # else the book has them all already
                self._take(await holdings_store.read_hold(tx, hold_id))
            self.book.mark_hold_loaded(hold_id)
        return self.book.held_by(hold_id)

    async def read_rest(self, tx: EventTransaction, account: str) -> None:
        """All of an account read in part (a selection needs more than its first blocks)."""
        await self._read(tx, [], [account], numbers=0)

    async def number(self, tx: EventTransaction) -> int:
        """A fresh operation number (drawn ahead for the batch's hinted commands)."""
        if not self._numbers:
            await self._read(tx, [], [], numbers=1)
        return self._numbers.pop()

    def forget_account(self, account: str) -> None:
        """The account's row changed (opened, frozen, unfrozen): read it again when asked."""
        self._accounts.pop(account, None)

    # -- writes ------------------------------------------------------------------------------

    async def apply(self, tx: EventTransaction, splits: Sequence[Split]) -> None:
        """Apply splits in the book, reading the neighbours it does not know first."""
        try:
            self.book.apply(splits)
        except NeighboursUnknown as unknown:  # raised before the book changed anything
            await self._read_positions(tx, unknown.ending_at, unknown.starting_at)
            self.book.apply(splits)

    def add_new(self, holdings: Iterable[Holding], program: str, project: str) -> None:
        for holding in holdings:
            self.book.batches[holding.batch_id] = (program, project)
        self.book.add_new(holdings)

    # -- internals ---------------------------------------------------------------------------

    async def _read(
        self, tx: EventTransaction, rows: list[str], blocks: list[str], numbers: int
    ) -> None:
        rows, blocks = list(rows), list(blocks)  # the caller's lists stay as they were
        wanted: dict[str, int] = {}
        if not self._hints_read:  # the first read also reads for the rest of the batch
            self._hints_read = True
            hints = [h for h in tx.hints if isinstance(h, MoveHint)]
            for hint in hints:
                rows += [a for a in (*hint.holders, *hint.others) if a not in self._accounts]
                blocks += [a for a in hint.holders if not self.book.has_account(a)]
                numbers += hint.numbers
            wanted = _wanted(hints)
        rows, blocks = sorted(set(rows)), sorted(set(blocks))
        wanted = {a: wanted[a] for a in blocks if a in wanted}
        read = await holdings_store.read_accounts(tx, rows, blocks, numbers, wanted)
        for account in rows:
            found = read.accounts.get(account)
            self._accounts[account] = AccountView(**found) if found else None
        self._numbers.extend(reversed(read.numbers))
        self._take(read)
        for account in blocks:
            self.book.mark_account_loaded(account, read.read_up_to.get(account))

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
    return tx.work(_KEY, Work)
