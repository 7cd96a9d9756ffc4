"""Members: organisations admitted to trade, with their registry and cash accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from libs.events.contract.matching import MemberAdmitted
from libs.events.store import EventTransaction
from libs.servicekit.auth import Principal
from services.matching import store
from services.matching.domain.errors import MemberExists, NotAMember
from services.matching.schemas import AdmitMember, MemberView


async def admit(tx: EventTransaction, body: AdmitMember, now: datetime) -> MemberView:
    member = body.model_dump() | {"admitted_at": now}
    if not await store.insert_member(tx, member):
        raise MemberExists(f"{body.org} is a member already")
    await tx.append(f"member/{body.org}", 0, [MemberAdmitted(**body.model_dump())])
    return MemberView(**member)


async def trading_member(conn: store.Conn, principal: Principal) -> dict[str, Any]:
    """The caller's member record: a `member` token of an admitted organisation."""
    if not principal.has_any("member") or principal.org is None:
        raise NotAMember("trading needs a member token of an admitted organisation")
    member = await store.get_member(conn, principal.org)
    if member is None:
        raise NotAMember(f"{principal.org} is not admitted as a member")
    return member
