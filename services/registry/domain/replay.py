"""Recompute every unit's owner and state from the log's movements alone (docs/domain.md).

Used by `tanhui registry verify`: it knows no event types, only `movements`, and checks on the
way that every movement takes units from where they are, that terminal units never move and that
each batch stays a disjoint cover of its range.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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


def _start(piece: Piece) -> int:
    return piece.start


class LedgerReplay:
    def __init__(self) -> None:
        self.batches: dict[str, list[Piece]] = {}
        self.issued: dict[str, tuple[int, int]] = {}

    def apply(self, sequence: int, movements: Iterable[dict[str, Any]]) -> None:
        for movement in movements:
            origin, target = movement.get("from"), movement.get("to")
            batch, start, end = movement["batch_id"], movement["start"], movement["end"]
            if start > end:
                raise LedgerViolation(sequence, f"empty range {start}..{end} in {batch}")
            if origin is None:
                self._create(sequence, batch, start, end, target)
            else:
                self._move(sequence, batch, start, end, origin, target)

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
        target: dict[str, Any] | None,
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
        new_state = target["state"] if target else "retired"
        new_account = target.get("account") if target else None
        self._reassign(pieces, at, start, end, new_account, new_state)

    @staticmethod
    def _reassign(
        pieces: list[Piece], at: int, start: int, end: int, account: str | None, state: str
    ) -> None:
        replaced: list[Piece] = []
        index = at
        while index < len(pieces) and pieces[index].start <= end:
            piece = pieces[index]
            if piece.start < start:
                replaced.append(Piece(piece.start, start - 1, piece.account, piece.state))
            if piece.end > end:
                replaced.append(Piece(max(piece.start, start), end, account, state))
                replaced.append(Piece(end + 1, piece.end, piece.account, piece.state))
            else:
                replaced.append(Piece(max(piece.start, start), piece.end, account, state))
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

    def merged(self) -> Iterator[tuple[str, int, int, str | None, str]]:
        for batch in sorted(self.batches):
            yield from merge_rows(
                batch, ((p.start, p.end, p.account, p.state) for p in self.batches[batch])
            )


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
