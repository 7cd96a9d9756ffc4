"""Batch ids and serial blocks (docs/domain.md).

A batch id is `{program}-{scope}-{project}-{vintage}-{seq:03d}`, e.g.
`YRDPH-15-QP0007-2024-001`; a block is `{batch id}-{start:09d}-{end:09d}`.
Scope 15 is agriculture in the CDM sectoral scopes; project codes start with the county
(QP 青浦, WJ 吴江, JS 嘉善) followed by four digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROGRAMS = ("YRDPH", "CCER")
AGRICULTURE_SCOPE = "15"
MAX_UNIT = 999_999_999

PROJECT_PATTERN = r"(?:QP|WJ|JS)\d{4}"
BATCH_PATTERN = rf"(?P<program>YRDPH|CCER)-(?P<scope>\d{{2}})-(?P<project>{PROJECT_PATTERN})-(?P<vintage>\d{{4}})-(?P<seq>\d{{3}})"
_BATCH = re.compile(rf"^{BATCH_PATTERN}$")
_BLOCK = re.compile(rf"^(?P<batch>{BATCH_PATTERN})-(?P<start>\d{{9}})-(?P<end>\d{{9}})$")


class MalformedSerial(ValueError):
    pass


@dataclass(frozen=True, order=True)
class BatchId:
    program: str
    scope: str
    project: str
    vintage: int
    seq: int

    def __str__(self) -> str:
        return f"{self.program}-{self.scope}-{self.project}-{self.vintage}-{self.seq:03d}"

    @classmethod
    def parse(cls, text: str) -> BatchId:
        match = _BATCH.match(text)
        if match is None:
            raise MalformedSerial(f"{text!r} is not a batch id like YRDPH-15-QP0007-2024-001")
        return cls(
            match["program"],
            match["scope"],
            match["project"],
            int(match["vintage"]),
            int(match["seq"]),
        )


@dataclass(frozen=True, order=True)
class Block:
    """Units `start..end` (inclusive) of one batch."""

    batch_id: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.end <= MAX_UNIT:
            raise MalformedSerial(f"invalid unit range {self.start}..{self.end}")

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    @property
    def serial(self) -> str:
        return format_block(self.batch_id, self.start, self.end)

    @classmethod
    def parse(cls, text: str) -> Block:
        match = _BLOCK.match(text)
        if match is None:
            raise MalformedSerial(
                f"{text!r} is not a serial block like YRDPH-15-QP0007-2024-001-000000001-000005000"
            )
        return cls(match["batch"], int(match["start"]), int(match["end"]))


def format_block(batch_id: str, start: int, end: int) -> str:
    return f"{batch_id}-{start:09d}-{end:09d}"


def plan_issuance(
    batch_id: str, first_unit: int, quantity: int, buffer_quantity: int
) -> tuple[Block | None, Block | None]:
    """Split a new batch into the holder's block (lowest units) and the buffer's block."""
    if quantity < 1 or not 0 <= buffer_quantity <= quantity:
        raise ValueError("quantity must be ≥ 1 and buffer_quantity within 0..quantity")
    last = first_unit + quantity - 1
    if last > MAX_UNIT:
        raise ValueError("the project's unit numbers would exceed 999,999,999")
    tradable = quantity - buffer_quantity
    holder = Block(batch_id, first_unit, first_unit + tradable - 1) if tradable else None
    buffer = Block(batch_id, first_unit + tradable, last) if buffer_quantity else None
    return holder, buffer
