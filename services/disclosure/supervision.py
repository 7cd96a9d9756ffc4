"""Supervision's alerts (README, "Supervision"): the read models' facts through the domain's
rules, filtered as the regulator asked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from services.disclosure import market_store, supervision_store
from services.disclosure.domain import supervision as rules
from services.disclosure.domain.supervision import Alert, AlertKind, ReportFact, TradeFact
from services.disclosure.store import Conn


async def alerts(
    conn: Conn,
    kinds: Sequence[AlertKind],
    instrument: str | None,
    date_from: date | None,
    date_to: date | None,
) -> list[Alert]:
    """Every alert of `kinds`: market alerts first, by instrument and day; a report's alert has
    no trading day and is kept whatever the dates."""
    found: list[Alert] = []
    if set(kinds) - {"verification_anomaly"}:
        found += await _market_alerts(conn, kinds, instrument)
    if "verification_anomaly" in kinds and instrument is None:
        reports = [_report(r) for r in await supervision_store.verified_reports(conn)]
        found += rules.verification_anomalies(reports)
    return [a for a in found if _within(a.trading_day, date_from, date_to)]


async def _market_alerts(
    conn: Conn, kinds: Sequence[AlertKind], instrument: str | None
) -> list[Alert]:
    by_instrument: dict[str, list[TradeFact]] = {}
    for row in await supervision_store.standing_trades_with_owners(conn, instrument):
        by_instrument.setdefault(row["instrument_id"], []).append(_trade(row))
    references = await market_store.reference_prices(conn)
    found: list[Alert] = []
    for name, trades in sorted(by_instrument.items()):
        if "wash_trade" in kinds:
            found += rules.wash_trades(trades)
        if "price_move" in kinds and name in references:
            found += rules.price_moves(name, trades, references[name])
        if "concentration" in kinds:
            found += rules.concentration(name, trades)
    return found


def _within(day: date | None, date_from: date | None, date_to: date | None) -> bool:
    if day is None:
        return True
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _trade(row: dict[str, Any]) -> TradeFact:
    return TradeFact(
        row["trade_id"],
        row["instrument_id"],
        row["trading_day"],
        row["price"],
        row["quantity"],
        row["mode"],
        row["buyer"],
        row["seller"],
        row["buyer_owner"],
        row["seller_owner"],
    )


def _report(row: dict[str, Any]) -> ReportFact:
    return ReportFact(
        row["report_id"],
        row["project_id"],
        Decimal(row["net_tco2e"]),
        Decimal(row["verified_tco2e"]),
        row["issued_quantity"],
    )
