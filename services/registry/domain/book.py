"""The blocks one transaction works on, with its changes applied in memory (a unit of work).

A `Book` starts empty. The store adds the blocks it reads from the database; commands
take units from it and apply their splits in memory; at the end `changes()` says which stored
blocks to delete and which to write (the store keys a block by its batch and last unit) — one
statement for a whole batch of commands, however many moves it made. This is the set-wise
path: reading and writing per batch, not per move.

What the book knows is exact for the units it has seen: a block read from the database is
current until the book changes it, so a row read again later is ignored in favour of the
book's version. Units nobody has read are unknown; merging a moved block with its neighbours
needs the blocks on either side of each split source, and `unknown_around` names those the book
must read first. A position found empty is a batch boundary (the blocks of a batch cover it
without gaps), remembered as such.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence

from services.registry.domain.ledger import Holding, Split


class AccountPartlyRead(Exception):
    """The book holds only a prefix (in selection order) of the account's available blocks and
    a selection went past it: read the rest (`Book.mark_account_loaded`), then select again."""

    def __init__(self, account: str) -> None:
        super().__init__(f"account {account} was read only in part")
        self.account = account


class NeighboursUnknown(Exception):
    """Applying these splits needs blocks next to their sources that the book has not read
    (`ending_at`, `starting_at` positions); nothing was changed."""

    def __init__(self, ending_at: list[Position], starting_at: list[Position]) -> None:
        super().__init__(f"neighbours not read: {ending_at, starting_at}")
        self.ending_at = ending_at
        self.starting_at = starting_at


Key = tuple[str, int]  # (batch id, start unit)
Position = tuple[str, int]  # (batch id, unit number)
Order = tuple[int, str, int]  # (vintage, batch id, start unit): the selection rule's order


class Book:
    def __init__(self) -> None:
        self._current: dict[Key, Holding] = {}
        self._by_end: dict[Position, Key] = {}
        self._original: dict[Key, Holding] = {}  # as stored, for the write-back diff
        self._seen: set[Key] = set()  # keys read from the database (current or since changed)
        self._dirty: set[Key] = set()  # keys put or dropped since the last `saved()`
        self._boundaries: set[Position] = set()  # units known not to exist
        # Each account's available blocks in selection order, kept sorted as blocks come and
        # go: a transfer takes from the front instead of sorting the account's blocks.
        self._available: dict[str, list[Order]] = {}
        self._loaded_accounts: set[str] = set()
        # Accounts whose available blocks were read only up to an order (a bulk request reads
        # only what its items will take): blocks after it may exist unread.
        self._read_up_to: dict[str, Order] = {}
        self._loaded_holds: set[str] = set()
        self._held: dict[str, set[Key]] = {}  # each hold's held blocks
        self.batches: dict[str, tuple[str, str]] = {}  # batch id → (program, project)

    # -- what the store tells the book ------------------------------------------------------

    def add_read(self, holding: Holding) -> bool:
        """A block as read from the database; ignored (False) if the book already has its
        units — its version is newer."""
        key = (holding.batch_id, holding.start)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._original[key] = holding
        self._place(holding)
        return True

    def add_new(self, holdings: Sequence[Holding]) -> None:
        """All the blocks of a batch that did not exist before (issuance, import): the units
        next to them that none of them holds are outside the batch. Known as such, a first
        move from them needs no read of its neighbours (a kept book met them in the middle of
        the next bulk request: a round trip that waited for every chunk sent ahead)."""
        assert len({h.batch_id for h in holdings}) == 1, "the blocks of one batch"
        for holding in holdings:
            self._put(holding)
            self._boundaries.discard((holding.batch_id, holding.start))
            self._boundaries.discard((holding.batch_id, holding.end))
        for holding in holdings:
            before, after = (
                (holding.batch_id, holding.start - 1),
                (holding.batch_id, holding.end + 1),
            )
            if before not in self._by_end:
                self._boundaries.add(before)
            if after not in self._current:
                self._boundaries.add(after)

    def mark_account_loaded(self, account: str, up_to: Order | None = None) -> None:
        """The account's held blocks and its available blocks have been added — all of them,
        or those up to `up_to`: `(vintage, batch, last unit)` of the last block read in
        selection order (what is left of it after a split counts as read)."""
        self._loaded_accounts.add(account)
        if up_to is None:
            self._read_up_to.pop(account, None)
        else:
            self._read_up_to[account] = up_to

    def mark_hold_loaded(self, hold_id: str) -> None:
        self._loaded_holds.add(hold_id)

    # -- questions ---------------------------------------------------------------------------

    def has_account(self, account: str) -> bool:
        return account in self._loaded_accounts

    def has_hold(self, hold_id: str) -> bool:
        return hold_id in self._loaded_holds

    def read_short_of(self, account: str, units: int | None) -> bool:
        """Whether the account was read only in part and what was read falls short: it holds
        fewer than `units` available units (None: the whole account is needed)."""
        up_to = self._read_up_to.get(account)
        if up_to is None:
            return False  # not loaded at all, or loaded whole
        if units is None:
            return True
        current, held = self._current, 0
        for order in self._available.get(account, ()):
            if order > up_to:
                break
            block = current[(order[1], order[2])]
            held += block.end - block.start + 1
            if held >= units:
                return False
        return True

    def is_saved(self) -> bool:
        """No change since the last `saved()`."""
        return not self._dirty

    def size(self) -> int:
        """What the book remembers, in blocks and positions (it only grows)."""
        return len(self._seen) + len(self._boundaries)

    def available(
        self,
        account: str,
        program: str | None = None,
        vintage: int | None = None,
        project: str | None = None,
        batch_id: str | None = None,
    ) -> Iterator[Holding]:
        """The account's available blocks matching the criteria, in selection order, lazily
        (a selection by quantity reads only the blocks it takes). The account must be loaded;
        consume the iterator before changing the book. Raises AccountPartlyRead on reaching
        the end of what was read of a partly read account."""
        assert account in self._loaded_accounts, f"account {account} not loaded"
        current, batches = self._current, self.batches
        read_up_to = self._read_up_to.get(account)
        for order in self._available.get(account, ()):
            if read_up_to is not None and order > read_up_to:
                raise AccountPartlyRead(account)
            block_vintage, block_batch, start = order
            if (vintage is not None and block_vintage != vintage) or (
                batch_id is not None and block_batch != batch_id
            ):
                continue
            if program is not None or project is not None:
                batch_program, batch_project = batches[block_batch]
                if (program is not None and batch_program != program) or (
                    project is not None and batch_project != project
                ):
                    continue
            yield current[(block_batch, start)]
        if read_up_to is not None:
            raise AccountPartlyRead(account)

    def held_by(self, hold_id: str) -> list[Holding]:
        """The blocks a hold holds, lowest first (the hold must be loaded)."""
        assert hold_id in self._loaded_holds, f"hold {hold_id} not loaded"
        held = [self._current[key] for key in self._held.get(hold_id, ())]
        return sorted(held, key=_order)

    def unknown_around(self, sources: Iterable[Holding]) -> tuple[list[Position], list[Position]]:
        """What the book must read before applying splits of `sources`: the positions where a
        block should end (`(batch, start - 1)`) and start (`(batch, end + 1)`) that it does not
        know."""
        ending_at: list[Position] = []
        starting_at: list[Position] = []
        for h in sources:
            before, after = (h.batch_id, h.start - 1), (h.batch_id, h.end + 1)
            if before not in self._by_end and before not in self._boundaries:
                ending_at.append(before)
            if after not in self._current and after not in self._boundaries:
                starting_at.append(after)
        return ending_at, starting_at

    def settle(self, ending_at: Iterable[Position], starting_at: Iterable[Position]) -> None:
        """The database was asked for blocks at these positions: those still unknown are
        outside their batch."""
        for position in ending_at:
            if position not in self._by_end:
                self._boundaries.add(position)
        for position in starting_at:
            if position not in self._current:
                self._boundaries.add(position)

    # -- changes -----------------------------------------------------------------------------

    def apply(self, splits: Sequence[Split]) -> None:
        """Replace each split's source by its remainders and moved part, then merge every
        touched block with equal neighbours (adjacent, same batch, owner, state, hold and
        acquisition date) so holdings stay compact. Raises NeighboursUnknown (and changes
        nothing) if blocks next to a source have not been read."""
        current, by_end, boundaries = self._current, self._by_end, self._boundaries
        for s in splits:  # `unknown_around`, inline: this runs once per moved block
            batch, start, end = s.removed[:3]
            before, after = (batch, start - 1), (batch, end + 1)
            if (before not in by_end and before not in boundaries) or (
                after not in current and after not in boundaries
            ):
                raise NeighboursUnknown(*self.unknown_around([s.removed for s in splits]))
        touched: list[Holding] = []
        for removed, remainders, moved in splits:
            touched += remainders
            touched.append(moved)
            slot = self._drop((removed.batch_id, removed.start), keep_slot=True)
            if slot is not None:
                ordered, index = slot
                if remainders:  # the first remainder sorts exactly where its source did
                    ordered[index] = _order(remainders[0])
                    self._put(remainders[0], ordered=False)
                    remainders = remainders[1:]
                else:
                    del ordered[index]
            for part in remainders:
                self._put(part)
            self._put(moved)
        for part in touched:
            self._merge_around((part.batch_id, part.start))

    def changes(self) -> tuple[list[Position], list[Holding]]:
        """`(stored blocks to delete, blocks to insert or overwrite)` since the last `saved()`,
        both identified as the store keys them: by batch and *last* unit. A split source gives
        away its lowest units, so what is left of it keeps its key, and its row changes in place
        (a HOT update: no index entry; keyed by first unit it was a new row with two, and the
        moved part an update of the old row with two more). In key order; proportional to what
        changed, not to the size of the book (a bulk request writes its changes in chunks)."""
        original, current = self._original, self._current
        # Every block stored or current under a changed key (the book's keys are first units).
        # No other block can end where one of these does: blocks of a batch never overlap.
        stored: dict[Position, Holding] = {}
        now: dict[Position, Holding] = {}
        for key in self._dirty:
            before = original.get(key)
            if before is not None:
                stored[(before.batch_id, before.end)] = before
            after = current.get(key)
            if after is not None:
                now[(after.batch_id, after.end)] = after
        stale: list[Position] = []
        fresh: list[Holding] = []
        for end_key in sorted(stored.keys() | now.keys()):
            holding = now.get(end_key)
            if holding is None:
                stale.append(end_key)
            elif stored.get(end_key) != holding:
                fresh.append(holding)
        return stale, fresh

    def saved(self) -> None:
        """The changes were written: the stored state is now the book's."""
        for key in self._dirty:
            holding = self._current.get(key)
            if holding is None:
                self._original.pop(key, None)
            else:
                self._original[key] = holding
                self._seen.add(key)
        self._dirty.clear()

    # -- internals ---------------------------------------------------------------------------

    def _put(self, holding: Holding, ordered: bool = True) -> None:
        key = (holding.batch_id, holding.start)
        self._dirty.add(key)
        self._place(holding, ordered)

    def _place(self, holding: Holding, ordered: bool = True) -> None:
        """`ordered=False`: the caller has put it in its account's ordered list already."""
        key = (holding.batch_id, holding.start)
        self._current[key] = holding
        self._by_end[(holding.batch_id, holding.end)] = key
        if holding.state == "available" and holding.account is not None:
            if ordered:
                insort(self._available.setdefault(holding.account, []), _order(holding))
        elif holding.state == "held" and holding.hold_id is not None:
            self._held.setdefault(holding.hold_id, set()).add(key)

    def _drop(self, key: Key, keep_slot: bool = False) -> tuple[list[Order], int] | None:
        """Remove the block at `key`. With `keep_slot`, an available block's entry stays in
        its account's ordered list for the caller to overwrite or delete: `(list, index)`."""
        holding = self._current.pop(key)
        self._dirty.add(key)
        del self._by_end[(holding.batch_id, holding.end)]
        if holding.state == "available" and holding.account is not None:
            ordered = self._available[holding.account]
            order = _order(holding)
            index = 0 if ordered[0] == order else bisect_left(ordered, order)
            if keep_slot:
                return ordered, index
            del ordered[index]
        elif holding.state == "held" and holding.hold_id is not None:
            self._held[holding.hold_id].discard(key)
        return None

    def _merge_around(self, key: Key) -> None:
        holding = self._current.get(key)
        if holding is None:
            return  # already merged into its left neighbour
        batch = holding.batch_id
        left = self._current.get(self._by_end.get((batch, holding.start - 1), _NOWHERE))
        if left is not None and left.same_owner_and_state(holding):
            self._drop((batch, left.start))
            self._drop(key)
            holding = left.ending_at(holding.end)
            self._put(holding)
        right = self._current.get((batch, holding.end + 1))
        if right is not None and right.same_owner_and_state(holding):
            self._drop((batch, right.start))
            self._drop((batch, holding.start))
            self._put(holding.ending_at(right.end))


_NOWHERE: Key = ("", 0)  # no block has this key (units start at 1)


def _order(holding: Holding) -> Order:
    return holding.vintage, holding.batch_id, holding.start
