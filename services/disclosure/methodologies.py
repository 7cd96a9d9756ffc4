"""Methodologies as the public sees them: issuance owns them (code, versioned, not events), so
disclosure asks issuance's public API and keeps each answer for a few minutes."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from libs.problems import NotFound, Unavailable

KEEP_SECONDS = 300.0
METHODOLOGY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")


class Methodologies:
    def __init__(self, issuance: httpx.AsyncClient) -> None:
        self.issuance = issuance
        self._kept: dict[str, tuple[float, Any]] = {}

    async def all(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = await self._get("/v1/methodologies")
        return answer

    async def one(self, methodology_id: str) -> dict[str, Any]:
        if not METHODOLOGY_ID.fullmatch(methodology_id):  # never forwarded as it came
            raise NotFound(f"no methodology {methodology_id[:50]!r}")
        answer: dict[str, Any] = await self._get(f"/v1/methodologies/{methodology_id}")
        return answer

    async def _get(self, path: str) -> Any:
        kept = self._kept.get(path)
        if kept is not None and time.monotonic() - kept[0] < KEEP_SECONDS:
            return kept[1]
        try:
            response = await self.issuance.get(path)
        except httpx.HTTPError as exc:
            raise Unavailable("the methodology catalogue cannot be reached now") from exc
        if response.status_code == 404:
            raise NotFound(f"no methodology at {path.rsplit('/', 1)[-1]}")
        if response.status_code != 200:
            raise Unavailable("the methodology catalogue cannot be reached now")
        self._kept[path] = (time.monotonic(), response.json())
        return self._kept[path][1]
