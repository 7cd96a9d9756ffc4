"""Supervision 监督管理: the rules that raise a regulator's alerts. Pure: facts in, alerts out.

The facts are what the read models hold: standing trades (a failed trade is not market
activity) with both members and the owners of their registry accounts, each instrument's
reference price, and monitoring reports with what was reported, verified and approved. The
thresholds are named below; an alert says which one it crossed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from libs.marketdata.bars import CLOSING_MODES, Bar, Trade, daily_bars

AlertKind = Literal["wash_trade", "price_move", "concentration", "verification_anomaly"]
ALERT_KINDS: tuple[AlertKind, ...] = (
    "wash_trade",
    "price_move",
    "concentration",
    "verification_anomaly",
)

PRICE_MOVE_PCT = 5  # a trade this far (or farther) from the previous close, in per cent
CONCENTRATION_PCT = 50  # one member's share of a day's bought or sold volume, in per cent
CONCENTRATION_MIN_TRADES = 3  # a day with fewer trades says nothing about concentration
VERIFICATION_GAP_PCT = 20  # verified against reported net, in per cent of the reported


@dataclass(frozen=True)
class TradeFact:
    trade_id: str
    instrument: str
    day: date
    price: int  # fen
    quantity: int  # t
    mode: str
    buyer: str  # member organisations
    seller: str
    buyer_owner: str | None  # the owner organisation of the buyer's registry account, if known
    seller_owner: str | None


@dataclass(frozen=True)
class ReportFact:
    report_id: str
    project: str
    reported: Decimal  # net tCO2e as reported
    verified: Decimal | None
    approved: int | None  # t approved for issuance, the buffer's share included


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    subject: str  # the trade, `<instrument>/<day>` or the monitoring report
    summary: str
    instrument: str | None = None
    trading_day: date | None = None
    project: str | None = None
    detail: dict[str, object] = field(default_factory=dict)


def wash_trades(trades: Iterable[TradeFact]) -> list[Alert]:
    """Trades whose two sides have one beneficial owner."""
    alerts = []
    for t in trades:
        if t.buyer == t.seller:
            reason = f"member {t.buyer} on both sides"
        elif t.buyer_owner is not None and t.buyer_owner == t.seller_owner:
            reason = f"both sides' registry accounts are owned by {t.buyer_owner}"
        else:
            continue
        alerts.append(
            Alert(
                "wash_trade",
                t.trade_id,
                f"Trade {t.trade_id}: {reason}",
                t.instrument,
                t.day,
                detail={"buyer": t.buyer, "seller": t.seller, "quantity": t.quantity},
            )
        )
    return alerts


def price_moves(instrument: str, trades: Sequence[TradeFact], reference_price: int) -> list[Alert]:
    """Per trading day of one instrument (`trades` in the log's order): the trade farthest from
    the previous close, when it is at least `PRICE_MOVE_PCT` away."""
    bars = daily_bars(
        [Trade(t.day, t.price, t.quantity, t.mode in CLOSING_MODES) for t in trades],
        reference_price,
    )
    previous_close = _previous_closes(bars, reference_price)
    farthest: dict[date, TradeFact] = {}
    for t in trades:
        base = previous_close[t.day]
        kept = farthest.get(t.day)
        if kept is None or abs(t.price - base) > abs(kept.price - base):
            farthest[t.day] = t
    alerts = []
    for day, t in sorted(farthest.items()):
        base = previous_close[day]
        if abs(t.price - base) * 100 < PRICE_MOVE_PCT * base:
            continue
        alerts.append(
            Alert(
                "price_move",
                f"{instrument}/{day.isoformat()}",
                f"{instrument} traded at {t.price} fen on {day}, {_pct(t.price - base, base)}"
                f" from the previous close of {base} fen (threshold {PRICE_MOVE_PCT}%)",
                instrument,
                day,
                detail={"trade_id": t.trade_id, "price": t.price, "previous_close": base},
            )
        )
    return alerts


def _previous_closes(bars: Sequence[Bar], reference_price: int) -> dict[date, int]:
    """Each trading day's previous close: the reference price before the first day."""
    closes = {}
    before = reference_price
    for bar in bars:
        closes[bar.day] = before
        before = bar.close
    return closes


def concentration(instrument: str, trades: Iterable[TradeFact]) -> list[Alert]:
    """Members who bought, or sold, more than `CONCENTRATION_PCT` of a day's volume."""
    days: dict[date, list[TradeFact]] = {}
    for t in trades:
        days.setdefault(t.day, []).append(t)
    alerts = []
    for day, todays in sorted(days.items()):
        if len(todays) < CONCENTRATION_MIN_TRADES:
            continue
        volume = sum(t.quantity for t in todays)
        for side in ("buyer", "seller"):
            shares: dict[str, int] = {}
            for t in todays:
                member = getattr(t, side)
                shares[member] = shares.get(member, 0) + t.quantity
            for member, quantity in sorted(shares.items()):
                if quantity * 100 > CONCENTRATION_PCT * volume:
                    alerts.append(_concentrated(instrument, day, side, member, quantity, volume))
    return alerts


def _concentrated(
    instrument: str, day: date, side: str, member: str, quantity: int, volume: int
) -> Alert:
    verb = "bought" if side == "buyer" else "sold"
    return Alert(
        "concentration",
        f"{instrument}/{day.isoformat()}",
        f"{member} {verb} {quantity} t of {instrument}'s {volume} t on {day}"
        f" ({quantity * 100 / volume:.1f}%; threshold {CONCENTRATION_PCT}%)",
        instrument,
        day,
        detail={"member": member, "side": side, "quantity": quantity, "volume": volume},
    )


def verification_anomalies(reports: Iterable[ReportFact]) -> list[Alert]:
    """Reports verified far from what was reported, or approved beyond what was verified."""
    alerts = []
    for r in reports:
        if r.verified is None:
            continue
        reasons = []
        gap = r.verified - r.reported
        if r.reported and abs(gap) * 100 > VERIFICATION_GAP_PCT * abs(r.reported):
            reasons.append(
                f"verified {r.verified} tCO2e against {r.reported} reported"
                f" ({_pct(gap, r.reported)}; threshold {VERIFICATION_GAP_PCT}%)"
            )
        if r.approved is not None and r.approved > int(r.verified):
            reasons.append(f"approved {r.approved} t, more than the {r.verified} verified")
        if reasons:
            alerts.append(
                Alert(
                    "verification_anomaly",
                    r.report_id,
                    f"Report {r.report_id}: " + "; ".join(reasons),
                    project=r.project,
                    detail={
                        "reported": str(r.reported),
                        "verified": str(r.verified),
                        "approved": r.approved,
                    },
                )
            )
    return alerts


def _pct(part: int | Decimal, whole: int | Decimal) -> str:
    return f"{Decimal(part) * 100 / Decimal(whole):+.1f}%"
