"""Every unit's block state from the log's movements (docs/domain.md): the one projector of
blocks from events.

`tanhui registry verify` replays the log's `movements` through it (knowing no event types) and
compares the result with the live blocks; `tanhui registry rebuild` replays through it too,
giving each movement the hold and acquisition date its event implies, and writes the blocks
table from it. Either way it checks on the way that every movement takes units from where they
are, that terminal units never move, and that each batch stays a disjoint cover of its range.
The live service moves blocks through its `Book` (`book.py`), proven against the same rules by
`tests/unit/test_book.py`, and `verify` proves the two agree on the real log.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from services.registry.domain.ledger import Holding, State, merge_adjacent
from services.registry.domain.serials import BatchId

TERMINAL = ("retired", "cancelled")


class LedgerViolation(Exception):
    def __init__(self, sequence: int, message: str) -> None:
        super().__init__(f"event {sequence}: {message}")
        self.sequence = sequence


@dataclass(slots=True)
class Piece:
    start: int
    end: int
    account: str | None
    state: str
    hold_id: str | None = None
    acquired_on: date | None = None  # bought through a trade's settlement on that day


def _start(piece: Piece) -> int:
    return piece.start


class LedgerReplay:
    def __init__(self) -> None:
        self.batches: dict[str, list[Piece]] = {}
        self.issued: dict[str, tuple[int, int]] = {}

    def apply(
        self,
        sequence: int,
        movements: Iterable[dict[str, Any]],
        hold_id: str | None = None,
        acquired_on: date | None = None,
    ) -> None:
        """Apply an event's movements (JSON form); the units moved take `hold_id` and
        `acquired_on` (created units have neither)."""
        for movement in movements:
            origin, target = movement.get("from"), movement.get("to")
            batch, start, end = movement["batch_id"], movement["start"], movement["end"]
            if start > end:
                raise LedgerViolation(sequence, f"empty range {start}..{end} in {batch}")
            if origin is None:
                self._create(sequence, batch, start, end, target)
            else:
                moved = _moved_state(target, hold_id, acquired_on)
                self._move(sequence, batch, start, end, origin, moved)

    def _create(
        self, sequence: int, batch: str, start: int, end: int, target: dict[str, Any] | None
    ) -> None:
        pieces = self.batches.setdefault(batch, [])
        at = bisect.bisect_left(pieces, start, key=_start)
        if (at > 0 and pieces[at - 1].end >= start) or (
            at < len(pieces) and pieces[at].start <= end
        ):
            raise LedgerViolation(sequence, f"units {start}..{end} of {batch} created twice")
        if target is None:
            raise LedgerViolation(sequence, "a movement from nowhere to nowhere")
        pieces.insert(at, Piece(start, end, target.get("account"), target["state"]))
        low, high = self.issued.get(batch, (start, end))
        self.issued[batch] = (min(low, start), max(high, end))

    def _move(
        self,
        sequence: int,
        batch: str,
        start: int,
        end: int,
        origin: dict[str, Any],
        moved: Piece,
    ) -> None:
        pieces = self.batches.get(batch)
        if not pieces:
            raise LedgerViolation(sequence, f"batch {batch} has no units")
        at = bisect.bisect_right(pieces, start, key=_start) - 1
        cursor, index = start, at
        while cursor <= end:
            if (
                index < 0
                or index >= len(pieces)
                or pieces[index].start > cursor
                or pieces[index].end < cursor
            ):
                raise LedgerViolation(sequence, f"unit {cursor} of {batch} does not exist")
            piece = pieces[index]
            if (piece.account, piece.state) != (origin.get("account"), origin["state"]):
                raise LedgerViolation(
                    sequence,
                    f"units of {batch} at {cursor} are {piece.account}/{piece.state}, "
                    f"not {origin.get('account')}/{origin['state']}",
                )
            if piece.state in TERMINAL:
                raise LedgerViolation(sequence, f"{piece.state} units of {batch} moved")
            cursor = min(end, piece.end) + 1
            index += 1
        self._reassign(pieces, at, start, end, moved)

    @staticmethod
    def _reassign(pieces: list[Piece], at: int, start: int, end: int, moved: Piece) -> None:
        """Units `start`..`end` (from `pieces[at]` on) become `moved`'s; the rest of each
        piece they cut keeps its own state."""
        account, state, hold_id, acquired = (
            moved.account,
            moved.state,
            moved.hold_id,
            moved.acquired_on,
        )
        replaced: list[Piece] = []
        index = at
        while index < len(pieces) and pieces[index].start <= end:
            piece = pieces[index]
            if piece.start < start:
                replaced.append(_cut(piece, piece.start, start - 1))
            last = min(piece.end, end)
            replaced.append(Piece(max(piece.start, start), last, account, state, hold_id, acquired))
            if piece.end > end:
                replaced.append(_cut(piece, end + 1, piece.end))
            index += 1
        pieces[at:index] = replaced

    def check_covers(self) -> None:
        for batch, pieces in self.batches.items():
            low, high = self.issued[batch]
            cursor = low
            for piece in pieces:
                if piece.start != cursor:
                    raise LedgerViolation(
                        0, f"batch {batch} is not a disjoint cover at unit {cursor}"
                    )
                cursor = piece.end + 1
            if cursor != high + 1:
                raise LedgerViolation(0, f"batch {batch} is not covered up to {high}")

    def holdings(self, vintage_of: Callable[[str], int] | None = None) -> Iterator[Holding]:
        """The blocks as the `blocks` table stores them: adjacent units with the same owner,
        state, hold and acquisition date merged, by batch then unit (a batch's vintage is in
        its id, or `vintage_of(batch)`)."""
        for batch in sorted(self.batches):
            vintage = vintage_of(batch) if vintage_of else BatchId.parse(batch).vintage
            yield from merge_adjacent(
                Holding(batch, p.start, p.end, p.account, cast(State, p.state), vintage,
                        p.hold_id, p.acquired_on)
                for p in self.batches[batch]
            )  # fmt: skip

    def merged(self) -> Iterator[tuple[str, int, int, str | None, str]]:
        for batch in sorted(self.batches):
            yield from merge_rows(
                batch, ((p.start, p.end, p.account, p.state) for p in self.batches[batch])
            )


def _moved_state(
    target: dict[str, Any] | None, hold_id: str | None, acquired_on: date | None
) -> Piece:
    """The state moved units take (positions are filled in by `_reassign`)."""
    if target is None:
        return Piece(0, 0, None, "retired", hold_id, acquired_on)
    return Piece(0, 0, target.get("account"), target["state"], hold_id, acquired_on)


def _cut(piece: Piece, start: int, end: int) -> Piece:
    return Piece(start, end, piece.account, piece.state, piece.hold_id, piece.acquired_on)


def merge_rows(
    batch: str, rows: Iterable[tuple[int, int, str | None, str]]
) -> Iterator[tuple[str, int, int, str | None, str]]:
    """Adjacent ranges with the same account and state as one: the digest's normal form."""
    current: list[Any] | None = None
    for start, end, account, state in rows:
        if (
            current is not None
            and current[1] + 1 == start
            and (current[2], current[3]) == (account, state)
        ):
            current[1] = end
            continue
        if current is not None:
            yield (batch, current[0], current[1], current[2], current[3])
        current = [start, end, account, state]
    if current is not None:
        yield (batch, current[0], current[1], current[2], current[3])


def state_digest(rows: Iterable[tuple[str, int, int, str | None, str]]) -> str:
    """SHA-256 over the normal form: one line per merged range, ordered by batch and unit."""
    digest = hashlib.sha256()
    for batch, start, end, account, state in rows:
        digest.update(f"{batch}|{start}|{end}|{account or ''}|{state}\n".encode())
    return digest.hexdigest()
