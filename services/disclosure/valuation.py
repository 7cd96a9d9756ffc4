"""Valuations (README, "Valuations"): positions, or an account's holdings asked of the registry
with the caller's own token, marked to the market data this service keeps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from libs.marketdata.bars import CLOSING_MODES, Trade, daily_bars
from libs.problems import Forbidden, NotFound, Unauthenticated, Unavailable
from services.disclosure import market_store
from services.disclosure.domain import valuation
from services.disclosure.domain.valuation import Mark, Position, Valuation
from services.disclosure.store import Conn


async def marks(conn: Conn, as_of: date) -> dict[str, Mark]:
    """Every instrument's mark on `as_of`."""
    found = {}
    for instrument, reference in (await market_store.reference_prices(conn)).items():
        trades = [
            Trade(t["trading_day"], t["price"], t["quantity"], t["mode"] in CLOSING_MODES)
            for t in await market_store.standing_trades(conn, instrument)
        ]
        found[instrument] = valuation.mark(
            instrument, reference, daily_bars(trades, reference), as_of
        )
    return found


async def of_positions(conn: Conn, positions: Iterable[Position], as_of: date) -> Valuation:
    return valuation.value(positions, await marks(conn, as_of), as_of)


async def account_positions(
    registry: httpx.AsyncClient, account: str, authorization: str
) -> list[Position]:
    """The units `account` holds (available and held), as the registry shows them to the
    caller: the registry decides who may see an account."""
    try:
        answer = await registry.get(
            f"/v1/accounts/{quote(account, safe='')}/holdings",
            headers={"Authorization": authorization},
        )
    except httpx.HTTPError as exc:
        raise Unavailable(f"the registry cannot be reached ({type(exc).__name__})") from None
    refused = {401: Unauthenticated, 403: Forbidden, 404: NotFound}.get(answer.status_code)
    if refused is not None:
        raise refused(_detail(answer))
    if answer.status_code != 200:
        raise Unavailable(f"the registry answered {answer.status_code}")
    blocks: list[dict[str, Any]] = answer.json()["blocks"]
    # A batch id begins with its program (`{program}-{scope}-{project}-{vintage}-{seq}`).
    return [Position(b["batch_id"].split("-")[0], b["vintage"], b["quantity"]) for b in blocks]


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail") or answer.reason_phrase)
    except ValueError:
        return answer.reason_phrase
