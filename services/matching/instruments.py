"""Instruments: list, halt, resume — and their rows as the domain's `Instrument`."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from libs.events.contract.matching import (
    InstrumentHalted,
    InstrumentListed,
    InstrumentResumed,
    SessionTerms,
)
from libs.events.store import ANY_VERSION, EventTransaction
from libs.marketdata.bars import rounded_vwap
from services.matching import store
from services.matching.domain.calendar import DEFAULT_BLOCK_WINDOW, DEFAULT_SESSIONS, Sessions
from services.matching.domain.errors import InstrumentExists, UnknownInstrument
from services.matching.domain.instruments import Instrument
from services.matching.schemas import CreateInstrument, InstrumentView


def stream(instrument_id: str) -> str:
    return f"instrument/{instrument_id}"


def session_terms(body: CreateInstrument) -> SessionTerms:
    if body.sessions == "always":
        return SessionTerms(windows=[], holidays=[], always=True)
    windows = DEFAULT_SESSIONS
    block_window = DEFAULT_BLOCK_WINDOW
    holidays: list[date] = []
    if body.sessions is not None:
        holidays = body.sessions.holidays
        if body.sessions.windows:
            windows = tuple((w.start, w.end) for w in body.sessions.windows)
        if body.sessions.block_window:
            block_window = (body.sessions.block_window.start, body.sessions.block_window.end)
    return SessionTerms(
        windows=[_hhmm(window) for window in windows],
        holidays=sorted(d.isoformat() for d in holidays),
        always=False,
        block_window=_hhmm(block_window),
    )


def _hhmm(window: tuple[time, time]) -> tuple[str, str]:
    return window[0].strftime("%H:%M"), window[1].strftime("%H:%M")


def domain(row: dict[str, Any]) -> Instrument:
    """The instrument's terms as the domain checks them."""
    terms = row["sessions"]
    sessions = Sessions(
        windows=tuple(_window(w) for w in terms["windows"]),
        holidays=frozenset(date.fromisoformat(d) for d in terms["holidays"]),
        always=terms["always"],
        block_window=_window(terms["block_window"]),
    )
    return Instrument(
        program=row["program"],
        vintage=row["vintage"],
        market_model=row["market_model"],
        reference_price=row["reference_price"],
        tick=row["tick"],
        lot=row["lot"],
        band_percent=row["band_percent"],
        max_quantity=row["max_quantity"],
        sessions=sessions,
        halted=row["halted"],
        block_min_quantity=row["block_min_quantity"],
        block_band_percent=row["block_band_percent"],
        auction_min_quantity=row["auction_min_quantity"],
        auction_cap_percent=row["auction_cap_percent"],
    )


def _window(edges: list[str] | tuple[str, str]) -> tuple[time, time]:
    return time.fromisoformat(edges[0]), time.fromisoformat(edges[1])


def view(row: dict[str, Any]) -> InstrumentView:
    return InstrumentView(**row, band=list(domain(row).band()))


async def create(tx: EventTransaction, body: CreateInstrument, now: datetime) -> InstrumentView:
    terms = session_terms(body)
    row = body.model_dump(exclude={"sessions"}) | {
        "id": f"{body.program}-{body.vintage}",
        "sessions": terms.model_dump(mode="json"),
        "halted": False,
        "listed_at": now,
    }
    domain(row)  # raises invalid-instrument for terms that cannot trade
    if await store.get_instrument(tx, row["id"]) is not None:
        raise InstrumentExists(f"{row['id']} is listed already")
    event = InstrumentListed(
        instrument_id=row["id"],
        **body.model_dump(exclude={"sessions"}),
        sessions=terms,
    )
    await tx.append(stream(row["id"]), 0, [event])
    await store.insert_instrument(tx, row)
    return view(row)


async def load(conn: store.Conn, instrument_id: str, for_update: bool = False) -> dict[str, Any]:
    row = await store.get_instrument(conn, instrument_id, for_update)
    if row is None:
        raise UnknownInstrument(f"no instrument {instrument_id}")
    return row


async def halt(tx: EventTransaction, instrument_id: str, reason: str) -> InstrumentView:
    row = await load(tx, instrument_id, for_update=True)
    if not row["halted"]:
        event = InstrumentHalted(instrument_id=instrument_id, reason=reason)
        await tx.append(stream(instrument_id), ANY_VERSION, [event])
        await store.set_halted(tx, instrument_id, True)
    return view(row | {"halted": True})


async def resume(tx: EventTransaction, instrument_id: str) -> InstrumentView:
    row = await load(tx, instrument_id, for_update=True)
    if row["halted"]:
        await tx.append(
            stream(instrument_id), ANY_VERSION, [InstrumentResumed(instrument_id=instrument_id)]
        )
        await store.set_halted(tx, instrument_id, False)
    return view(row | {"halted": False})


# (instrument, trading day) → the previous close (None: no earlier trade). Fixed once the day
# has begun: earlier days' trades are settled or failed by then (sessions end at 15:00).
PreviousCloses = dict[tuple[str, date], int | None]


async def terms_in_force(
    conn: store.Conn, row: dict[str, Any], now: datetime, closes: PreviousCloses | None = None
) -> Instrument:
    """The instrument's terms today: its band is around the previous close (the VWAP of the
    last earlier day's listing trades), or the operator's reference price before any."""
    terms = domain(row)
    day = terms.sessions.trading_day(now)
    known = closes if closes is not None else {}
    if (row["id"], day) not in known:
        previous = await store.previous_close(conn, row["id"], day)
        known[(row["id"], day)] = rounded_vwap(*previous) if previous else None
    close = known[(row["id"], day)]
    if close is None:
        return terms
    return terms.with_reference(close // terms.tick * terms.tick or terms.tick)
