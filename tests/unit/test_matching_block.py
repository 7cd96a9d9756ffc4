"""The block agreement's negotiation rules and the calendar's block window."""

from __future__ import annotations

from datetime import date

import pytest

from libs.problems import Problem
from services.matching.domain.block import Negotiation
from services.matching.domain.calendar import EXCHANGE_TIME, MarketClosed, Sessions
from services.matching.domain.instruments import Instrument
from tests.unit.test_matching_instruments import MONDAY, at

PUBLIC = Negotiation("BQ-1", "COOP", "sell", None, False, "open", "COOP")
DIRECTED = Negotiation("BQ-2", "COOP", "sell", "ENT", True, "open", "COOP")


def refusal(call: object, *args: object) -> str:
    with pytest.raises(Problem) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.slug


def test_anyone_but_the_maker_answers_a_public_quote() -> None:
    PUBLIC.check_answer("ENT")
    PUBLIC.check_answer("ANYONE")
    assert refusal(PUBLIC.check_answer, "COOP") == "offer-is-yours"
    assert PUBLIC.side_of("ENT") == "buy" and PUBLIC.side_of("COOP") == "sell"


def test_once_countered_only_the_two_parties_negotiate_turn_by_turn() -> None:
    countered = Negotiation("BQ-1", "COOP", "sell", "ENT", False, "open", "ENT")
    countered.check_answer("COOP")
    assert refusal(countered.check_answer, "ENT") == "offer-is-yours"
    assert refusal(countered.check_answer, "OTHER") == "not-your-negotiation"
    assert countered.visible_to("OTHER", supervisor=False)  # it was public


def test_a_directed_proposal_exists_only_for_its_parties() -> None:
    assert DIRECTED.visible_to("ENT", False) and DIRECTED.visible_to("COOP", False)
    assert not DIRECTED.visible_to("OTHER", False)
    assert not DIRECTED.visible_to(None, False)
    assert DIRECTED.visible_to(None, supervisor=True)


def test_an_ended_negotiation_takes_no_answer_and_only_parties_end_it() -> None:
    ended = Negotiation("BQ-3", "COOP", "sell", "ENT", True, "accepted", "COOP")
    assert refusal(ended.check_answer, "ENT") == "block-quote-closed"
    assert refusal(ended.check_withdraw, "ENT", False) == "block-quote-closed"
    assert refusal(DIRECTED.check_withdraw, "OTHER", False) == "not-your-negotiation"
    DIRECTED.check_withdraw("ENT", False)
    DIRECTED.check_withdraw("MARKET", True)


def block_instrument(**terms: object) -> Instrument:
    return Instrument("YRDPH", 2024, "listing", **{"reference_price": 10_000, **terms})  # type: ignore[arg-type]


def test_block_terms_window_minimum_and_band() -> None:
    yrd = block_instrument()
    yrd.check_block(13_000, 100_000, at(MONDAY, 13, 0))  # +30 %, the minimum, the window
    assert refusal(yrd.check_block, 13_001, 100_000, at(MONDAY, 14)) == "price-outside-band"
    assert refusal(yrd.check_block, 10_000, 99_999, at(MONDAY, 14)) == "quantity-under-minimum"
    assert refusal(yrd.check_block, 10_000, 100_000, at(MONDAY, 10)) == "market-closed"
    assert refusal(yrd.check_block, 10_000, 100_000, at(MONDAY, 15)) == "market-closed"
    smaller = block_instrument(block_min_quantity=1_000, block_band_percent=5)
    smaller.check_block(10_500, 1_000, at(MONDAY, 14))


def test_a_closed_market_names_its_next_opening() -> None:
    sessions = Sessions(holidays=frozenset({date(2026, 12, 8)}))
    cases = [
        (at(MONDAY, 8), None, at(MONDAY, 9, 30)),
        (at(MONDAY, 12), None, at(MONDAY, 13)),
        (at(MONDAY, 16), None, at(date(2026, 12, 9), 9, 30)),  # Tuesday is a holiday
        (at(date(2026, 12, 11), 15, 30), None, at(date(2026, 12, 14), 9, 30)),  # weekend
        (at(MONDAY, 10), [sessions.block_window], at(MONDAY, 13)),
    ]
    for moment, windows, opening in cases:
        assert sessions.next_opening(moment, windows) == opening.astimezone(EXCHANGE_TIME)
        with pytest.raises(MarketClosed) as closed:
            sessions.check_open("YRDPH-2024", moment, windows)
        assert (
            closed.value.extensions["next_opening"] == opening.astimezone(EXCHANGE_TIME).isoformat()
        )
    assert Sessions(always=True).next_opening(at(MONDAY, 3)) is None


def test_auction_prices_and_windows() -> None:
    yrd = block_instrument(tick=5)
    assert yrd.auction_prices("previous_close") == (10_000, 11_000)
    assert yrd.auction_prices("previous_close_minus_10pct") == (9_000, 11_000)
    opens, closes = at(MONDAY, 10), at(MONDAY, 11)
    yrd.check_auction(100_000, opens, closes, at(MONDAY, 9))
    assert refusal(yrd.check_auction, 99_999, opens, closes, at(MONDAY, 9)) == (
        "quantity-under-minimum"
    )
    assert refusal(yrd.check_auction, 100_000, closes, opens, at(MONDAY, 9)) == (
        "invalid-auction-window"
    )
    assert refusal(yrd.check_auction, 100_000, opens, closes, at(MONDAY, 12)) == (
        "invalid-auction-window"
    )
    saturday = at(date(2026, 12, 12), 10)
    assert refusal(
        yrd.check_auction, 100_000, saturday, saturday.replace(hour=3), at(MONDAY, 9)
    ) == ("market-closed")
