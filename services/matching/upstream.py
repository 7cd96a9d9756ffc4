"""Calls to the systems matching depends on, with one way of telling their answers apart.

An answer is either a success, a refusal (a 4xx problem: nothing was done, saying so is
safe), or no answer at all (a timeout, a refused connection, a 5xx): then the call may or may
not have taken effect, and only repeating it under the same key, or voiding it, tells.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class Refusal(Exception):
    """The other system answered 4xx: it did nothing. `slug` is its problem type's last part."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.slug = str(problem.get("type", "")).rsplit(":", 1)[-1]
        super().__init__(f"{status} {self.slug}: {problem.get('detail', '')}")


class NoAnswer(Exception):
    """No usable answer: the call may or may not have taken effect."""


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    deadline = client.timeout.read or 30.0  # the whole call, not just each read
    try:
        async with asyncio.timeout(deadline):
            response = await client.request(method, path, json=json, headers=headers)
    except (httpx.HTTPError, TimeoutError) as exc:
        raise NoAnswer(f"{method} {path}: {type(exc).__name__} {exc}") from exc
    if response.status_code >= 500:
        raise NoAnswer(f"{method} {path}: {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:200]}
    if response.status_code >= 400:
        raise Refusal(response.status_code, body if isinstance(body, dict) else {})
    answer = body if isinstance(body, dict) else {"items": body}
    if response.headers.get("idempotent-replayed") == "true":
        answer[REPLAYED] = True  # the first answer to this key, given again
    return answer


REPLAYED = "__replayed__"
