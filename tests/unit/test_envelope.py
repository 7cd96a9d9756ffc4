"""Hash chain: each envelope hashes its content and links to its predecessor."""

from __future__ import annotations

import pytest

from libs.events.envelope import GENESIS_HASH, ChainBreak, ChainVerifier, Envelope, hash_of


def make_chain(n: int) -> list[Envelope]:
    chain, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        body = {
            "specversion": "1.0",
            "id": f"00000000-0000-7000-8000-{i:012d}",
            "source": "tanhui/test",
            "type": "tanhui.test.Thing.v1",
            "subject": "thing/1",
            "time": "2026-01-01T00:00:00.000000Z",
            "sequence": i,
            "streamversion": i,
            "actor": "system",
            "correlationid": None,
            "causationid": None,
            "traceparent": None,
            "prevhash": prev,
            "data": {"n": i, "note": "稻田"},
        }
        envelope = Envelope(**body, hash=hash_of(body))
        chain.append(envelope)
        prev = envelope.hash
    return chain


def test_an_untouched_chain_verifies() -> None:
    verifier = ChainVerifier()
    for envelope in make_chain(5):
        verifier.check(envelope)
    assert verifier.last_sequence == 5


def test_tampered_data_is_detected_at_its_sequence() -> None:
    chain = make_chain(5)
    chain[2] = chain[2].model_copy(update={"data": {"n": 999, "note": "稻田"}})
    verifier = ChainVerifier()
    with pytest.raises(ChainBreak) as caught:
        for envelope in chain:
            verifier.check(envelope)
    assert caught.value.sequence == 3
    assert "content" in caught.value.reason


def test_a_missing_event_is_detected() -> None:
    chain = make_chain(4)
    verifier = ChainVerifier()
    verifier.check(chain[0])
    with pytest.raises(ChainBreak, match="expected sequence 2"):
        verifier.check(chain[2])


def test_a_relinked_event_is_detected() -> None:
    chain = make_chain(3)
    forged = chain[1].model_copy(update={"prevhash": "f" * 64})
    verifier = ChainVerifier()
    verifier.check(chain[0])
    with pytest.raises(ChainBreak, match="prevhash"):
        verifier.check(forged)
