"""The fast canonicalisation path must produce exactly the bytes of the RFC 8785 reference."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events.canonical import canonical_json

ascii_keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
any_text = st.text(max_size=30)  # every code point, control characters and astral planes too
safe_ints = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)

envelope_like = st.recursive(
    st.none() | st.booleans() | safe_ints | any_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ascii_keys, children, max_size=6)
    ),
    max_leaves=40,
)

anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | any_text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=600)
@given(envelope_like)
def test_fast_path_matches_reference_on_the_envelope_subset(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=300)
@given(anything)
def test_any_json_value_matches_reference(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.IntegerDomainError, rfc8785.FloatDomainError):
        return  # outside JCS's domain for both implementations
    assert canonical_json(value) == expected


def test_known_vector_sorts_keys_and_escapes_controls() -> None:
    value = {"b": [1, None, True], "a": "é\n\u001f", "aa": {"z": -5, "y": "x"}}
    assert (
        canonical_json(value)
        == b'{"a":"\xc3\xa9\\n\\u001f","aa":{"y":"x","z":-5},"b":[1,null,true]}'
    )


def test_astral_keys_take_the_reference_path_with_utf16_order() -> None:
    # U+1F600 sorts before U+FF5E in UTF-16 code units but after it in code points.
    value = {"\uff5e": 1, "\U0001f600": 2}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index(
        "\uff5e".encode()
    )
