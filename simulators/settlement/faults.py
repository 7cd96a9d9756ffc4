"""Fault injection: make chosen operations refuse, answer late or start failing after N calls.

Rules are set over HTTP (`PUT /v1/faults`) by tests and demos. `delay` waits before doing the
work, so a caller that times out may find the operation done (or, after a void, refused) — the
ambiguity a real settlement system's slow answers create.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, Field

Operation = Literal["reserve", "release", "settle", "void", "deposit"]


class Rule(BaseModel):
    operation: Operation
    mode: Literal["refuse", "delay", "fail_after"]
    seconds: float = Field(default=0, ge=0, le=600, description="delay: how long")
    after: int = Field(default=0, ge=0, description="fail_after: calls that still succeed")


class FaultPlan(BaseModel):
    rules: list[Rule] = Field(default_factory=list, max_length=20)


class Injected(Exception):
    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail


class Faults:
    def __init__(self) -> None:
        self.plan = FaultPlan()
        self.calls: dict[str, int] = {}

    def set(self, plan: FaultPlan) -> None:
        self.plan, self.calls = plan, {}

    async def before(self, operation: Operation) -> None:
        """Raise `Injected` or sleep as the rules for `operation` say."""
        self.calls[operation] = self.calls.get(operation, 0) + 1
        for rule in self.plan.rules:
            if rule.operation != operation:
                continue
            if rule.mode == "refuse":
                raise Injected(409, "refused", f"{operation} refused by fault injection")
            if rule.mode == "fail_after" and self.calls[operation] > rule.after:
                raise Injected(503, "unavailable", f"{operation} failing after {rule.after} calls")
            if rule.mode == "delay":
                await asyncio.sleep(rule.seconds)
