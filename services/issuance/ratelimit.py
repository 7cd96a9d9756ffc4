"""A per-client sliding-window limit for anonymous notice comments (in memory, per replica:
enough to stop a flood from one address; a shared limit would sit in the ingress)."""

from __future__ import annotations

import time
from collections import deque

from services.issuance.domain.errors import RateLimited

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 100_000


class CommentLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def check(self, client: str) -> None:
        now = time.monotonic()
        stamps = self._seen.setdefault(client, deque())
        while stamps and now - stamps[0] >= WINDOW_SECONDS:
            stamps.popleft()
        if len(stamps) >= self.per_minute:
            retry = int(WINDOW_SECONDS - (now - stamps[0])) + 1
            raise RateLimited(f"at most {self.per_minute} comments a minute", retry_after=retry)
        stamps.append(now)
        if len(self._seen) > MAX_CLIENTS:  # forget idle clients rather than grow without bound
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < WINDOW_SECONDS}
