"""The fast canonicalisation path must produce exactly the bytes of the RFC 8785 reference."""

from __future__ import annotations

import hashlib

import orjson
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.events.canonical import canonical_json
from libs.events.envelope import EnvelopeTemplate

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


uuids = st.uuids().map(str)
hashes = st.text("0123456789abcdef", min_size=64, max_size=64)


@settings(max_examples=400)
@given(
    context=st.tuples(any_text, st.none() | any_text, st.none() | any_text, st.none() | any_text),
    event=st.tuples(uuids, hashes, safe_ints, safe_ints, any_text, any_text),
    data=st.dictionaries(ascii_keys, envelope_like, max_size=6),
)
def test_an_envelope_template_hashes_the_reference_bytes(
    context: tuple[str, str | None, str | None, str | None],
    event: tuple[str, str, int, int, str, str],
    data: dict[str, object],
) -> None:
    """The bytes assembled around a dumped `data` are the RFC 8785 bytes of the whole
    envelope (every field's text may hold any code point; data is in the proven subset)."""
    actor, correlation, causation, trace = context
    event_id, prevhash, sequence, version, subject, event_type = event
    time = "2026-11-24T08:00:00.123456Z"
    template = EnvelopeTemplate("tanhui/registry", actor, correlation, causation, trace, time)
    envelope = {
        "specversion": "1.0", "id": event_id, "source": "tanhui/registry", "type": event_type,
        "subject": subject, "time": time, "sequence": sequence, "streamversion": version,
        "actor": actor, "correlationid": correlation, "causationid": causation,
        "traceparent": trace, "prevhash": prevhash, "data": data,
    }  # fmt: skip
    dumped = template.dump_data(data)
    assert orjson.loads(dumped) == data
    expected = hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()
    assert template.hash(dumped, event_id, prevhash, sequence, version, subject, event_type) == (
        expected
    )
