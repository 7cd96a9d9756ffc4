"""The consumer's view of a source log's sequence: watermark, gaps, against a plain model."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from libs.events.sequence_gaps import SequenceTracker


def test_out_of_order_arrivals_advance_the_watermark_once_the_gap_closes() -> None:
    tracker = SequenceTracker()
    tracker.applied(1, now=0)
    tracker.applied(3, now=1)
    tracker.applied(4, now=2)
    assert (tracker.watermark, tracker.missing_after, tracker.gap_open_for(5)) == (1, 1, 4)
    tracker.applied(2, now=6)
    assert (tracker.watermark, tracker.missing_after, tracker.gap_open_for(7)) == (4, None, 0)
    tracker.applied(3, now=8)  # a duplicate changes nothing
    assert tracker.watermark == 4 and not tracker.beyond


def test_rereading_restarts_the_gap_clock() -> None:
    tracker = SequenceTracker()
    tracker.applied(2, now=0)
    assert tracker.gap_open_for(10) == 10
    tracker.rereading(now=10)
    assert tracker.gap_open_for(12) == 2


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=120))
def test_the_watermark_is_the_longest_applied_prefix(arrivals: list[int]) -> None:
    tracker = SequenceTracker()
    for now, sequence in enumerate(arrivals):
        tracker.applied(sequence, now)
    seen = set(arrivals)
    prefix = 0
    while prefix + 1 in seen:
        prefix += 1
    assert tracker.watermark == prefix
    assert tracker.beyond == {s for s in seen if s > prefix}
    assert (tracker.missing_after is None) == (not tracker.beyond)
