"""What one process knows of its log between transactions: the head it last committed (or
read under the log lock), the stream versions current at that head, and the state units of
work kept for the next transaction.

Optimistic transactions build on it without asking the database; the flush's compare-and-set
(the primary key on `sequence`) proves it right, or sends the batch down the pessimistic path,
which reads the head under the lock and validates the cache (`validate`).
"""

from __future__ import annotations

STREAM_CACHE_LIMIT = 200_000

Head = tuple[int, str]  # (sequence, hash)


class HeadCache:
    def __init__(self) -> None:
        self._head: Head | None = None
        self._stream_versions: dict[str, int] = {}
        # What units of work left at a commit for the next transaction (`UnitOfWork.kept`,
        # `EventTransaction.take_kept`), each with the head it is the state at.
        self._kept: dict[str, tuple[Head, object]] = {}
        self.kept_used = 0  # transactions that built on kept state (exported on /metrics)

    @property
    def head(self) -> Head | None:
        return self._head

    def stream_version(self, stream: str) -> int | None:
        return self._stream_versions.get(stream)

    def validate(self, head: int, head_hash: str) -> None:
        """Under the log lock: keep what is known only if nobody else wrote since we did."""
        moved = self._head is None or self._head[0] != head
        if moved or len(self._stream_versions) > STREAM_CACHE_LIMIT:
            self._stream_versions.clear()
        if moved:
            self._kept.clear()
        self._head = (head, head_hash)

    def after_commit(self, base: int, head: int, head_hash: str, versions: dict[str, int]) -> None:
        """A transaction built on `base` committed up to `head`, writing `versions`."""
        if self._head is not None and self._head[0] == base:
            self._stream_versions.update(versions)
        else:
            self._stream_versions.clear()
        self._head = (head, head_hash)

    def forget(self) -> None:
        """Another writer went first: nothing known is certain any more."""
        self._head = None
        self._stream_versions.clear()
        self._kept.clear()

    def keep(self, key: str, head: Head, value: object) -> None:
        self._kept[key] = (head, value)

    def take_kept(self, key: str) -> tuple[Head, object] | None:
        """Taken, not shared: state of a transaction that does not commit is never used again."""
        return self._kept.pop(key, None)

    def kept_at(self, key: str) -> Head | None:
        """The head at which a unit of work's state was kept under `key` (None: nothing kept)."""
        left = self._kept.get(key)
        return None if left is None else left[0]
