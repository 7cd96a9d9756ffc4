"""Opaque cursors for cursor-paginated lists."""

from __future__ import annotations

import base64

from libs.problems import ValidationFailed


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        position = int(value)
        if prefix != "p" or not 0 <= position < 2**63:  # a position PostgreSQL can compare
            raise ValueError(prefix)
        return position
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("cursor is not a value returned as next_cursor") from None


# Short lists whose order has no single integer key (policies by issue date, notices by their
# end, methodologies as issuance lists them): the cursor counts the items already given.
def offset_of(cursor: str | None) -> int:
    return decode_cursor(cursor) or 0


def next_offset_cursor(offset: int, returned: int, limit: int) -> str | None:
    return encode_cursor(offset + returned) if returned == limit else None
