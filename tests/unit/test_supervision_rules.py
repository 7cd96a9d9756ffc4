"""Supervision's rules (services/disclosure/domain/supervision.py): pure, no I/O."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from libs.marketdata.bars import Trade, daily_bars
from services.disclosure.domain import supervision as rules
from services.disclosure.domain.supervision import ReportFact, TradeFact

DAY = date(2026, 12, 7)


def trade(
    n: int,
    price: int = 5_000,
    quantity: int = 10,
    buyer: str = "ORG-B",
    seller: str = "ORG-S",
    owners: tuple[str | None, str | None] = (None, None),
    day: date = DAY,
    mode: str = "continuous",
) -> TradeFact:
    return TradeFact(
        f"T{n}", "YRDPH-2024", day, price, quantity, mode, buyer, seller, owners[0], owners[1]
    )


def test_a_trade_between_one_beneficial_owner_is_a_wash_trade() -> None:
    trades = [
        trade(1),
        trade(2, owners=("ORG-X", "ORG-X")),  # two members, accounts of one owner
        trade(3, buyer="ORG-A", seller="ORG-A"),  # one member on both sides
        trade(4, owners=("ORG-X", None)),  # the seller's owner not known yet
    ]
    alerts = rules.wash_trades(trades)
    assert [(a.kind, a.subject) for a in alerts] == [("wash_trade", "T2"), ("wash_trade", "T3")]
    assert "owned by ORG-X" in alerts[0].summary
    assert alerts[1].detail == {"buyer": "ORG-A", "seller": "ORG-A", "quantity": 10}


def test_a_trade_five_per_cent_from_the_previous_close_raises_one_alert_for_its_day() -> None:
    next_day = DAY + timedelta(days=1)
    trades = [
        trade(1, price=5_100),  # +2% of the reference
        trade(2, price=5_250),  # +5%: the day's farthest, at the threshold
        trade(3, price=5_240, day=next_day),  # the day before closed at 5,175: within 5%
    ]
    alerts = rules.price_moves("YRDPH-2024", trades, reference_price=5_000)
    assert len(alerts) == 1
    assert alerts[0].subject == "YRDPH-2024/2026-12-07"
    assert alerts[0].detail == {"trade_id": "T2", "price": 5_250, "previous_close": 5_000}
    assert "+5.0%" in alerts[0].summary


def test_a_block_trade_moves_no_close_but_may_move_too_far() -> None:
    trades = [trade(1, price=4_000, mode="block"), trade(2, price=5_000, day=DAY + timedelta(1))]
    alerts = rules.price_moves("YRDPH-2024", trades, reference_price=5_000)
    # The block trade is 20% off; the next day compares with the close it did not make.
    assert [a.detail["trade_id"] for a in alerts] == ["T1"]


def test_one_member_with_more_than_half_a_days_volume_is_concentration() -> None:
    trades = [
        trade(1, quantity=30, buyer="ORG-B1"),
        trade(2, quantity=20, buyer="ORG-B1"),
        trade(3, quantity=49, buyer="ORG-B2"),
    ]
    alerts = rules.concentration("YRDPH-2024", trades)
    # ORG-B1 bought 50 of 99 t; ORG-S sold all of them.
    assert [(a.detail["member"], a.detail["side"]) for a in alerts] == [
        ("ORG-B1", "buyer"),
        ("ORG-S", "seller"),
    ]
    assert rules.concentration("YRDPH-2024", trades[:2]) == []  # fewer than three trades


def test_a_report_verified_far_from_its_reported_net_or_over_approved_is_an_anomaly() -> None:
    reports = [
        ReportFact("R1", "QP0001", Decimal("100.0"), Decimal("85.5"), 85),  # -14.5%: fine
        ReportFact("R2", "QP0002", Decimal("100.0"), Decimal("79.9"), 79),  # -20.1%
        ReportFact("R3", "QP0003", Decimal("100.0"), Decimal("95.4"), 96),  # approved > 95.4
        ReportFact("R4", "QP0004", Decimal("100.0"), None, None),  # not verified yet
    ]
    alerts = rules.verification_anomalies(reports)
    assert [(a.subject, a.project) for a in alerts] == [("R2", "QP0002"), ("R3", "QP0003")]
    assert "-20.1%" in alerts[0].summary
    assert "approved 96 t" in alerts[1].summary


day_trades = st.lists(
    st.builds(
        lambda n, price, quantity, buyer, seller, offset: trade(
            n, price, quantity, f"ORG-{buyer}", f"ORG-{seller}", day=DAY + timedelta(offset)
        ),
        st.integers(0, 10**6),
        st.integers(4_000, 6_000),
        st.integers(1, 100),
        st.integers(0, 4),
        st.integers(5, 9),
        st.integers(0, 3),
    ),
    max_size=40,
)


@given(day_trades)
def test_concentration_flags_exactly_the_members_over_half_of_a_busy_day(
    trades: list[TradeFact],
) -> None:
    expected = set()
    for day in {t.day for t in trades}:
        todays = [t for t in trades if t.day == day]
        if len(todays) < 3:
            continue
        volume = sum(t.quantity for t in todays)
        for side in ("buyer", "seller"):
            for member in {getattr(t, side) for t in todays}:
                bought = sum(t.quantity for t in todays if getattr(t, side) == member)
                if 2 * bought > volume:
                    expected.add((day, side, member))
    alerts = rules.concentration("YRDPH-2024", trades)
    assert {(a.trading_day, a.detail["side"], a.detail["member"]) for a in alerts} == expected


@given(day_trades, st.integers(4_000, 6_000))
def test_a_price_move_alert_names_its_days_farthest_trade_and_only_past_the_threshold(
    trades: list[TradeFact], reference: int
) -> None:
    alerts = rules.price_moves("YRDPH-2024", trades, reference)
    assert len({a.trading_day for a in alerts}) == len(alerts)  # one per day at most
    for alert in alerts:
        base = alert.detail["previous_close"]
        assert isinstance(base, int)
        todays = [t.price for t in trades if t.day == alert.trading_day]
        assert alert.detail["price"] in todays
        farthest = max(abs(p - base) for p in todays)
        assert abs(int(str(alert.detail["price"])) - base) == farthest
        assert farthest * 100 >= rules.PRICE_MOVE_PCT * base
    # A day without an alert traded within the threshold of its previous close (the close by
    # the exchange's rule, libs/marketdata/bars.py).
    closes = daily_bars([Trade(t.day, t.price, t.quantity) for t in trades], reference)
    previous = dict(
        zip([b.day for b in closes], [reference, *(b.close for b in closes)][:-1], strict=True)
    )
    quiet = {t.day for t in trades} - {a.trading_day for a in alerts}
    for t in trades:
        if t.day in quiet:
            assert abs(t.price - previous[t.day]) * 100 < rules.PRICE_MOVE_PCT * previous[t.day]
