"""Request and response models of the registry API (DESIGN §8)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.serials import PROJECT_PATTERN

MAX_QUANTITY = 1_000_000_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAccount(Strict):
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Owning organisation; defaults to the caller's. Only registry_admin may "
        "open accounts for another organisation.",
    )
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["holding", "buffer"] = "holding"
    program: Literal["YRDPH", "CCER"] | None = None


class AccountView(BaseModel):
    id: str
    owner: str
    name: str
    kind: str
    program: str | None
    status: str


class IssueCredits(Strict):
    batch_id: str | None = Field(
        default=None, description="Only to re-assert a known id; otherwise computed"
    )
    program: Literal["YRDPH", "CCER"]
    project: str = Field(pattern=f"^{PROJECT_PATTERN}$", examples=["QP0007"])
    vintage: int = Field(ge=2000, le=2100)
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="Units in the batch, buffer included")
    account: str
    buffer_account: str | None = None
    buffer_quantity: int = Field(default=0, ge=0, le=MAX_QUANTITY)


class BlockView(BaseModel):
    serial: str
    batch_id: str
    start: int
    end: int
    quantity: int
    account: str
    state: str


class IssuanceView(BaseModel):
    batch_id: str
    blocks: list[BlockView]
