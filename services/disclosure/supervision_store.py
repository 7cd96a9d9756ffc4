"""SQL of supervision: the facts its rules read (`domain/supervision.py`)."""

from __future__ import annotations

from typing import Any

from services.disclosure.store import Conn


async def standing_trades_with_owners(conn: Conn, instrument: str | None) -> list[dict[str, Any]]:
    """Trades that stand, in the matching log's order, each with the owner organisations of
    both sides' registry accounts (null while the account's opening is not consumed). All
    days: a day's previous close depends on the days before it."""
    rows = await conn.fetch(
        """
        SELECT t.trade_id, t.instrument_id, t.trading_day, t.price, t.quantity, t.mode,
               coalesce(t.buyer, '') AS buyer, coalesce(t.seller, '') AS seller,
               b.owner AS buyer_owner, s.owner AS seller_owner
        FROM market_trades t
        LEFT JOIN public_accounts b ON b.id = t.buyer_registry_account
        LEFT JOIN public_accounts s ON s.id = t.seller_registry_account
        WHERE NOT t.failed
          AND ($1::text IS NULL OR t.instrument_id = $1)
        ORDER BY t.instrument_id, t.source_sequence
        """,
        instrument,
    )
    return [dict(r) for r in rows]


async def verified_reports(conn: Conn) -> list[dict[str, Any]]:
    """Monitoring reports that have been verified, oldest submission first."""
    rows = await conn.fetch(
        "SELECT report_id, project_id, net_tco2e, verified_tco2e, issued_quantity"
        " FROM public_monitoring_reports WHERE verified_tco2e IS NOT NULL"
        " ORDER BY submitted_at, report_id"
    )
    return [dict(r) for r in rows]
