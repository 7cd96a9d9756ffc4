"""Opaque cursors: what a list hands out comes back as the same position, and nothing else
gets through to a query as a position."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.problems import ValidationFailed
from libs.servicekit.pagination import (
    decode_cursor,
    encode_cursor,
    next_offset_cursor,
    offset_of,
)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_cursor_comes_back_as_its_position(position: int) -> None:
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("text", ["p:-1", f"p:{2**63}", "q:5", "p:", "p:1.5", "\udcff"])
def test_a_cursor_no_list_handed_out_is_refused(text: str) -> None:
    cursor = base64.urlsafe_b64encode(text.encode(errors="surrogatepass")).decode()
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor)
    with pytest.raises(ValidationFailed):
        decode_cursor("not base64 !")


def test_offset_pages_end_when_a_page_is_short() -> None:
    assert offset_of(None) == 0
    following = next_offset_cursor(0, 100, 100)
    assert following is not None and offset_of(following) == 100
    assert next_offset_cursor(100, 7, 100) is None
