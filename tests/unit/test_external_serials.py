from __future__ import annotations

import pytest

from services.registry.domain.external import InvalidExternalRange, parse_external_range


def test_a_range_is_a_prefix_and_trailing_unit_numbers() -> None:
    parsed = parse_external_range("CCER-2024-000101", "CCER-2024-000250")
    assert (parsed.prefix, parsed.first, parsed.last, parsed.count) == ("CCER-2024-", 101, 250, 150)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("CCER-2024-000250", "CCER-2024-000101", "before the first"),
        ("CCER-2024-000001", "CCER-2025-000009", "different prefixes"),
        ("CCER-A", "CCER-B", "unit number"),
        ("X-1", "X-2000000001", "at most"),
    ],
)
def test_bad_ranges_are_refused(start: str, end: str, reason: str) -> None:
    with pytest.raises(InvalidExternalRange, match=reason):
        parse_external_range(start, end)
