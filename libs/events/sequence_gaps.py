"""What a consumer has applied of a source log, as the source's gap-free `sequence` sees it.

A source topic has several partitions (keyed by stream), so its events arrive in stream order
but not in log order: sequence 41 may come before 40 for a while. The watermark is the last
sequence up to which every event has been applied; sequences applied beyond it wait in
`beyond`. A gap that stays open while the consumer has nothing left to read means an event was
skipped (a recreated topic, a lost offset): the consumer then reads its topic again from the
beginning, which its deduplication makes safe. Pure: the clock is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SequenceTracker:
    watermark: int = 0
    beyond: set[int] = field(default_factory=set)
    gap_opened_at: float | None = None  # when the current gap was first seen (or re-read)

    def applied(self, sequence: int, now: float) -> None:
        if sequence <= self.watermark:
            return
        if sequence == self.watermark + 1:
            self.watermark = sequence
            while self.watermark + 1 in self.beyond:
                self.watermark += 1
                self.beyond.discard(self.watermark)
        else:
            self.beyond.add(sequence)
        if not self.beyond:
            self.gap_opened_at = None
        elif self.gap_opened_at is None:
            self.gap_opened_at = now

    @property
    def missing_after(self) -> int | None:
        """The watermark while a later sequence has been applied (a gap), else None."""
        return self.watermark if self.beyond else None

    def gap_open_for(self, now: float) -> float:
        return 0.0 if self.gap_opened_at is None else now - self.gap_opened_at

    def rereading(self, now: float) -> None:
        """The topic is being read again: give the gap a fresh period to close."""
        if self.beyond:
            self.gap_opened_at = now
