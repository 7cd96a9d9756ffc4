"""Supervision's facts as disclosure's consumers store them (real PostgreSQL): a trade's two
sides found to share a beneficial owner through their registry accounts' owners, a failed
trade raising nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from libs.events.envelope import Envelope
from libs.servicekit.database import asyncpg_dsn
from services.disclosure import supervision
from services.disclosure.consumers import run_handler
from services.disclosure.domain.supervision import ALERT_KINDS
from tests.conftest import Platform


def envelope(source: str, sequence: int, kind: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"tanhui/{source}",
        type=f"tanhui.{source}.{kind}.v1",
        subject=f"{kind}/{sequence}",
        time="2026-12-07T02:00:00.000000Z",
        sequence=sequence,
        streamversion=1,
        actor="test",
        prevhash="0" * 64,
        hash="0" * 64,
        data=data,
    )


def account(sequence: int, account_id: str, owner: str) -> Envelope:
    body = {"account_id": account_id, "owner": owner, "name": owner, "kind": "holding"}
    return envelope("registry", sequence, "AccountOpened", body)


def trade(
    sequence: int, trade_id: str, buyer: tuple[str, str], seller: tuple[str, str]
) -> Envelope:
    return envelope(
        "matching",
        sequence,
        "TradeExecuted",
        {
            "trade_id": trade_id,
            "instrument_id": "YRDPH-2024",
            "mode": "listing",
            "price": 5_000,
            "quantity": 10,
            "buyer": buyer[0],
            "seller": seller[0],
            "buyer_registry_account": buyer[1],
            "buyer_cash_account": f"CASH-{buyer[0]}",
            "seller_registry_account": seller[1],
            "seller_cash_account": f"CASH-{seller[0]}",
            "listing_id": f"L-{trade_id}",
            "taker_side": "buy",
            "seller_hold_id": f"H-{trade_id}",
            "buyer_reservation_id": f"R-{trade_id}",
            "trading_day": "2026-12-07",
        },
    )


@pytest.fixture
async def conn(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_dsn(await platform.fresh_database("disclosure")))
    try:
        yield connection
    finally:
        await connection.close()


async def apply(conn: asyncpg.Connection, source: str, envelopes: list[Envelope]) -> None:
    async with conn.transaction():
        await run_handler(source)(conn, envelopes)  # type: ignore[arg-type]


async def test_members_trading_for_one_owner_are_a_wash_trade_unless_the_trade_failed(
    conn: asyncpg.Connection,
) -> None:
    await apply(
        conn,
        "matching",
        [
            trade(1, "T-CLEAN", ("ENT-A", "ACC-A"), ("COOP-B", "ACC-B")),
            trade(2, "T-WASH", ("ENT-C", "ACC-C"), ("COOP-D", "ACC-D")),
            trade(3, "T-FAILED", ("ENT-C", "ACC-C"), ("COOP-D", "ACC-D")),
            trade(4, "T-NOT-YET", ("ENT-E", "ACC-E"), ("COOP-F", "ACC-F")),
            envelope(
                "matching", 5, "TradeFailed", {"trade_id": "T-FAILED", "leg": "cash", "reason": "x"}
            ),
        ],
    )
    # A trade may arrive before its accounts' openings: the owners are joined when read.
    await apply(
        conn,
        "registry",
        [
            account(1, "ACC-A", "ENT-A"),
            account(2, "ACC-B", "COOP-B"),
            account(3, "ACC-C", "HOLDCO-1"),  # ENT-C and COOP-D trade for one owner
            account(4, "ACC-D", "HOLDCO-1"),
            account(5, "ACC-E", "HOLDCO-2"),  # ACC-F's opening not consumed yet
        ],
    )
    alerts = await supervision.alerts(conn, ["wash_trade"], None, None, None)
    assert [(a.subject, a.detail["buyer"], a.detail["seller"]) for a in alerts] == [
        ("T-WASH", "ENT-C", "COOP-D")
    ]
    assert "owned by HOLDCO-1" in alerts[0].summary
    await apply(conn, "registry", [account(6, "ACC-F", "HOLDCO-2")])
    alerts = await supervision.alerts(conn, ALERT_KINDS, "YRDPH-2024", None, None)
    assert sorted(a.subject for a in alerts if a.kind == "wash_trade") == ["T-NOT-YET", "T-WASH"]
    before = await supervision.alerts(conn, ALERT_KINDS, None, None, date(2026, 12, 6))
    assert before == []  # the dates bound the trading day
