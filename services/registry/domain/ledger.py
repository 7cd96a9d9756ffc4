"""Pure ledger logic: which units move, how blocks split and merge (docs/domain.md).

A holding is a block of units `start..end` of one batch, owned by one account in one state (and,
when held, by one hold). Operations never name units as free text: unless exact serial ranges
are given, the selection rule picks them — oldest vintage first, then batch id, then lowest unit
number — and a block is split so that the moved part is its lowest-numbered units.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal, NamedTuple

State = Literal["available", "held", "retired", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"retired", "cancelled"})


# Holding, Take and Split are named tuples: a bulk request creates ~100,000 of them, and a
# frozen dataclass costs three times as much to build (one object.__setattr__ per field). The
# hot paths below build them with `_new(Class, fields)`, which skips the named tuple's
# Python-level `__new__` (a Holding: 282 → 129 ns).
_new = tuple.__new__


class Holding(NamedTuple):
    batch_id: str
    start: int
    end: int
    account: str | None  # None for the retirement/cancellation sinks
    state: State
    vintage: int = 0
    hold_id: str | None = None
    acquired_on: date | None = None  # set by trade settlement (same-day resale guard)

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    def ending_at(self, end: int) -> Holding:
        """This block with another last unit (a merge)."""
        return _new(
            Holding,
            (
                self.batch_id, self.start, end, self.account, self.state, self.vintage,
                self.hold_id, self.acquired_on,
            ),
        )  # fmt: skip

    def same_owner_and_state(self, other: Holding) -> bool:
        return (
            self.account == other.account
            and self.batch_id == other.batch_id
            and self.state == other.state
            and self.hold_id == other.hold_id
            and self.acquired_on == other.acquired_on
        )


class Take(NamedTuple):
    """Units `start..end` taken from `source` (a part of it, or all of it)."""

    source: Holding
    start: int
    end: int

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


class NotEnoughUnits(Exception):
    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(f"{wanted} units wanted, {available} available")
        self.wanted = wanted
        self.available = available


class UnitsNotAvailable(Exception):
    """A named serial range is not wholly available in the account."""


def selection_order(holding: Holding) -> tuple[int, str, int]:
    return holding.vintage, holding.batch_id, holding.start


def select_by_quantity(candidates: Iterable[Holding], quantity: int) -> list[Take]:
    """The selection rule over the account's available holdings (already filtered by criteria)."""
    return take_in_order(sorted(candidates, key=selection_order), quantity)


def take_in_order(ordered: Iterable[Holding], quantity: int) -> list[Take]:
    """`select_by_quantity` over holdings already in selection order, read only as far as
    needed."""
    takes: list[Take] = []
    remaining = quantity
    if remaining <= 0:
        return takes
    for holding in ordered:  # never asks for a block after the last one it takes
        size = min(remaining, holding.quantity)
        takes.append(_new(Take, (holding, holding.start, holding.start + size - 1)))
        remaining -= size
        if remaining == 0:
            break
    if remaining:
        raise NotEnoughUnits(quantity, quantity - remaining)
    return takes


def select_by_ranges(
    candidates: Sequence[Holding], ranges: Iterable[tuple[str, int, int]]
) -> list[Take]:
    """Exact serial ranges `(batch_id, start, end)`, each wholly inside available holdings."""
    by_batch: dict[str, list[Holding]] = {}
    for holding in candidates:
        by_batch.setdefault(holding.batch_id, []).append(holding)
    takes: list[Take] = []
    for batch_id, start, end in sorted(ranges):
        cursor = start
        for holding in sorted(by_batch.get(batch_id, []), key=lambda h: h.start):
            if holding.end < cursor or holding.start > end:
                continue
            if holding.start > cursor:
                break
            upto = min(end, holding.end)
            takes.append(Take(holding, cursor, upto))
            cursor = upto + 1
            if cursor > end:
                break
        if cursor <= end:
            raise UnitsNotAvailable(f"units {cursor}..{end} of {batch_id} are not available here")
    _refuse_overlaps(takes)
    return takes


def _refuse_overlaps(takes: Sequence[Take]) -> None:
    seen: dict[str, int] = {}
    for take in sorted(takes, key=lambda t: (t.source.batch_id, t.start)):
        last = seen.get(take.source.batch_id, 0)
        if take.start <= last:
            raise UnitsNotAvailable(f"serial ranges of {take.source.batch_id} overlap")
        seen[take.source.batch_id] = take.end


class Split(NamedTuple):
    """What taking units does to one source holding: it is removed, the untaken remainders stay,
    and the taken part becomes `moved` with its new owner and state."""

    removed: Holding
    remainders: tuple[Holding, ...]
    moved: Holding


def split(
    take: Take,
    account: str | None,
    state: State,
    hold_id: str | None = None,
    acquired_on: date | None = None,
) -> Split:
    # `_new` with positional fields, not `_replace`: this runs once per moved block.
    s = source = take.source
    remainders = []
    batch, owner, was, vintage = s.batch_id, s.account, s.state, s.vintage
    held_by, acquired = s.hold_id, s.acquired_on
    if take.start > s.start:
        before = (batch, s.start, take.start - 1, owner, was, vintage, held_by, acquired)
        remainders.append(_new(Holding, before))
    if take.end < s.end:
        after = (batch, take.end + 1, s.end, owner, was, vintage, held_by, acquired)
        remainders.append(_new(Holding, after))
    moved = _new(
        Holding, (batch, take.start, take.end, account, state, vintage, hold_id, acquired_on)
    )
    return _new(Split, (source, tuple(remainders), moved))


def merge_adjacent(holdings: Iterable[Holding]) -> list[Holding]:
    """Adjacent blocks of the same batch, owner, state and hold become one (compact holdings)."""
    merged: list[Holding] = []
    for holding in sorted(holdings, key=lambda h: (h.batch_id, h.start)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.end + 1 == holding.start
            and last.same_owner_and_state(holding)
        ):
            merged[-1] = last.ending_at(holding.end)
        else:
            merged.append(holding)
    return merged


def check_cover(batch_start: int, batch_end: int, holdings: Iterable[Holding]) -> None:
    """Invariant 1: the holdings of one batch are a disjoint cover of its unit range."""
    cursor = batch_start
    for holding in sorted(holdings, key=lambda h: h.start):
        if holding.start != cursor:
            raise AssertionError(f"units {cursor}..{holding.start - 1} missing or overlapping")
        if holding.end < holding.start:
            raise AssertionError(f"empty block {holding}")
        cursor = holding.end + 1
    if cursor != batch_end + 1:
        raise AssertionError(f"units {cursor}..{batch_end} not covered")
