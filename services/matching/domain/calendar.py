"""An instrument's trading calendar: its sessions, its block-trade window, trading days.

Pure: moments are aware datetimes handed in (the service's injected clock), so any session can
be tested at any hour. Times of day are Asia/Shanghai; trading days are weekdays that are not
holidays. A refusal for a closed market names the next opening, so a member knows when to
come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from libs.problems import Problem

EXCHANGE_TIME = ZoneInfo("Asia/Shanghai")
Window = tuple[time, time]
# The listing agreement's and the continuous book's sessions on trading days.
DEFAULT_SESSIONS: tuple[Window, ...] = ((time(9, 30), time(11, 30)), (time(13, 0), time(15, 0)))
# Block agreement (大宗协议) quotes and acceptances.
DEFAULT_BLOCK_WINDOW: Window = (time(13, 0), time(15, 0))
_LOOK_AHEAD_DAYS = 400  # a year of holidays cannot hide the next opening further away


class MarketClosed(Problem):
    status, slug, title = 409, "market-closed", "The market is closed for this instrument"


@dataclass(frozen=True)
class Sessions:
    """When an instrument trades: windows on trading days, or always (pilots, local runs)."""

    windows: tuple[Window, ...] = DEFAULT_SESSIONS
    holidays: frozenset[date] = field(default_factory=frozenset)
    always: bool = False
    block_window: Window = DEFAULT_BLOCK_WINDOW

    def trading_day(self, moment: datetime) -> date:
        """The exchange's calendar day of `moment` (a trade's day, for bars and resale)."""
        return moment.astimezone(EXCHANGE_TIME).date()

    def is_trading_day(self, day: date) -> bool:
        return self.always or (day.weekday() < 5 and day not in self.holidays)

    def open_at(self, moment: datetime, windows: Sequence[Window] | None = None) -> bool:
        """Whether `moment` is in one of `windows` (default: the sessions) on a trading day."""
        if self.always:
            return True
        local = moment.astimezone(EXCHANGE_TIME)
        if not self.is_trading_day(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in windows or self.windows)

    def next_opening(
        self, moment: datetime, windows: Sequence[Window] | None = None
    ) -> datetime | None:
        """The first start of one of `windows` after `moment` (None: always open)."""
        if self.always:
            return None
        local = moment.astimezone(EXCHANGE_TIME)
        starts = sorted(start for start, _ in windows or self.windows)
        for offset in range(_LOOK_AHEAD_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self.is_trading_day(day):
                continue
            for start in starts:
                opening = datetime.combine(day, start, EXCHANGE_TIME)
                if opening > local:
                    return opening
        return None

    def window_end(self, moment: datetime, window: Window) -> datetime | None:
        """When `window` ends on `moment`'s day (None: always open, nothing ends)."""
        if self.always:
            return None
        return datetime.combine(self.trading_day(moment), window[1], EXCHANGE_TIME)

    def check_open(
        self, what: str, moment: datetime, windows: Sequence[Window] | None = None
    ) -> None:
        """Raise `market-closed`, naming the next opening, unless `moment` is in `windows`."""
        if self.open_at(moment, windows):
            return
        opening = self.next_opening(moment, windows)
        named = opening.isoformat() if opening else None
        raise MarketClosed(f"{what} is closed; it opens next at {named}", next_opening=named)

    def check_trading_day(self, what: str, moment: datetime) -> None:
        """Raise `market-closed` unless `moment` falls on a trading day."""
        if self.is_trading_day(self.trading_day(moment)):
            return
        opening = self.next_opening(moment)
        named = opening.isoformat() if opening else None
        raise MarketClosed(
            f"{what}: {self.trading_day(moment)} is not a trading day; the next opens at {named}",
            next_opening=named,
        )
