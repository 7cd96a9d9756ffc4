"""External serial ranges of the CCER bridge-in: a common prefix and a trailing unit number."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TRAILING_DIGITS = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
MAX_IMPORT = 1_000_000_000


class InvalidExternalRange(ValueError):
    pass


@dataclass(frozen=True)
class ExternalRange:
    prefix: str
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def parse_external_range(start: str, end: str) -> ExternalRange:
    """`CCER-2024-000101` .. `CCER-2024-000250` → prefix `CCER-2024-`, units 101..250."""
    first, last = _TRAILING_DIGITS.match(start), _TRAILING_DIGITS.match(end)
    if first is None or last is None:
        raise InvalidExternalRange("external serials must end in a unit number")
    if first["prefix"] != last["prefix"]:
        raise InvalidExternalRange("first and last external serial have different prefixes")
    low, high = int(first["number"]), int(last["number"])
    if high < low:
        raise InvalidExternalRange("the last external serial comes before the first")
    if high - low + 1 > MAX_IMPORT:
        raise InvalidExternalRange(f"at most {MAX_IMPORT:,} units per import")
    return ExternalRange(first["prefix"], low, high)
