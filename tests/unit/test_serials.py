"""Batch ids and serial blocks exactly as docs/domain.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.serials import BatchId, Block, MalformedSerial, plan_issuance


def test_batch_id_format_and_parse_round_trip() -> None:
    batch = BatchId("YRDPH", "15", "QP0007", 2024, 1)
    assert str(batch) == "YRDPH-15-QP0007-2024-001"
    assert BatchId.parse("YRDPH-15-QP0007-2024-001") == batch


def test_block_serial_is_zero_padded_to_nine_digits() -> None:
    block = Block("YRDPH-15-QP0007-2024-001", 1, 5000)
    assert block.serial == "YRDPH-15-QP0007-2024-001-000000001-000005000"
    assert Block.parse(block.serial) == block
    assert block.quantity == 5000


@pytest.mark.parametrize(
    "text",
    [
        "YRDPH-15-QP0007-2024-001-1-5000",  # not padded
        "YRDPH-15-XX0007-2024-001-000000001-000005000",  # unknown county
        "VCS-15-QP0007-2024-001-000000001-000005000",  # unknown program
        "YRDPH-15-QP0007-2024-001-000000009-000000001",  # end before start
        "YRDPH-15-QP0007-2024-001-000000000-000000001",  # unit 0
    ],
)
def test_malformed_serials_are_refused(text: str) -> None:
    with pytest.raises(MalformedSerial):
        Block.parse(text)


@given(
    first=st.integers(1, 10**6),
    quantity=st.integers(1, 10**6),
    buffer_share=st.floats(0, 1),
)
def test_issuance_plan_covers_the_batch_exactly(
    first: int, quantity: int, buffer_share: float
) -> None:
    buffer_quantity = int(quantity * buffer_share)
    holder, buffer = plan_issuance("YRDPH-15-QP0007-2024-001", first, quantity, buffer_quantity)
    blocks = [b for b in (holder, buffer) if b is not None]
    assert sum(b.quantity for b in blocks) == quantity
    assert blocks[0].start == first and blocks[-1].end == first + quantity - 1
    if holder and buffer:
        assert holder.end + 1 == buffer.start  # holder gets the lowest units
    assert (buffer.quantity if buffer else 0) == buffer_quantity


def test_issuance_plan_refuses_unit_numbers_past_the_serial_width() -> None:
    with pytest.raises(ValueError, match="exceed"):
        plan_issuance("YRDPH-15-QP0007-2024-001", 999_999_000, 1001, 0)
