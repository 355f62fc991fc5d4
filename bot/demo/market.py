"""The demo's market: real EURUSD hourly bars from the package's sample file. The bars before the session
become chart history; the session's bars are replayed as 5-minute quotes, pushed through the signed quote
API on the desk's clock. Everything is moved by whole weeks into the recent past, so the session keeps its
weekday and hours (and the history its weekends)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.feeds.csv_replay import load_price_file
from bot.producer_client import QuoteIn
from core.candles import Candle
from core.instruments import InstrumentTable

INSTRUMENT = "EURUSD"
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "eurusd_h1.csv"
SESSION_OPEN = datetime(2018, 2, 6, 5, tzinfo=UTC)  # a Tuesday: a rally, then a slide (the tour is written for it)
SESSION_BARS = 8  # 05:00 to 13:00
HISTORY_BARS = 320  # 120 shown on a card, 200 more for its moving average
QUOTE_STEP = timedelta(minutes=5)
SPREAD_POINTS = 10  # one pip
_WAYPOINT_MINUTES = (0, 20, 40, 55)  # open, first extreme, second extreme, close


@dataclass(frozen=True)
class Session:
    history: list[Candle]
    bars: list[Candle]
    point: Decimal
    shift: timedelta  # how far the file's times were moved

    @property
    def opens_at(self) -> datetime:
        return self.bars[0].time

    @property
    def closes_at(self) -> datetime:
        return self.bars[-1].time + timedelta(hours=1)

    def at(self, hour: int, minute: int = 0) -> datetime:
        """A moment of the session's day, e.g. at(8) for 08:00."""
        return self.opens_at.replace(hour=hour, minute=minute)

    def last_price(self) -> QuoteIn:
        """The price when the session opens: the last history bar's close, five minutes before."""
        return self._quote(self.history[-1].close, self.opens_at - QUOTE_STEP)

    def bar_quotes(self, index: int) -> list[QuoteIn]:
        """Bar `index` of the session as quotes every 5 minutes: open, low then high for a rising bar (high
        then low for a falling one), close; straight lines in between."""
        bar = self.bars[index]
        rising = bar.close >= bar.open
        prices = (bar.open, bar.low, bar.high, bar.close) if rising else (bar.open, bar.high, bar.low, bar.close)
        waypoints = list(zip(_WAYPOINT_MINUTES, prices, strict=True))
        quotes = []
        for minute in range(0, 60, int(QUOTE_STEP.total_seconds() // 60)):
            quotes.append(self._quote(_along(waypoints, minute), bar.time + timedelta(minutes=minute)))
        return quotes

    def shown(self, price: Decimal) -> str:
        """A price with the instrument's decimals, as the desk shows it."""
        return str(price.quantize(self.point))

    def _quote(self, bid: Decimal, time: datetime) -> QuoteIn:
        bid = bid.quantize(self.point)
        return QuoteIn(INSTRUMENT, bid, bid + SPREAD_POINTS * self.point, time)


def load_session(instruments: InstrumentTable, now: datetime, path: Path = SAMPLE_FILE) -> Session:
    """The sample file's session, moved by the whole weeks that put its close before `now`."""
    bars = load_price_file(path, instruments, instrument=INSTRUMENT).bars
    first = next(i for i, bar in enumerate(bars) if bar.time == SESSION_OPEN)
    weeks = (now - (SESSION_OPEN + timedelta(hours=SESSION_BARS))) // timedelta(weeks=1)
    shift = timedelta(weeks=weeks)

    def moved(chosen: list[Candle]) -> list[Candle]:
        return [dataclasses.replace(bar, time=bar.time + shift) for bar in chosen]

    return Session(
        history=moved(bars[max(0, first - HISTORY_BARS):first]),
        bars=moved(bars[first:first + SESSION_BARS]),
        point=instruments.spec(INSTRUMENT).point,
        shift=shift,
    )


def _along(waypoints: list[tuple[int, Decimal]], minute: int) -> Decimal:
    """The straight-line price at `minute` between the waypoints around it."""
    for (m0, p0), (m1, p1) in zip(waypoints, waypoints[1:]):
        if m0 <= minute <= m1:
            return p0 + (p1 - p0) * Decimal(minute - m0) / Decimal(m1 - m0)
    return waypoints[-1][1]
