"""A PriceFeed that replays a CSV file, for the demo and tests.

Two layouts, told apart by the header (names are case-insensitive; the time column may be unnamed, as in
MetaTrader exports, or called time/timestamp/date/datetime):
- ticks: time, instrument, bid, ask (instrument may be left out and given as a parameter instead);
- bars: time, open, high, low, close[, volume] of one instrument, given as a parameter. Bars are bid
  prices, as MetaTrader stores them; each becomes four quotes, open -> low -> high -> close for a rising bar
  (open -> high -> low -> close for a falling one), spread over the bar, with ask = bid + spread.

Times without a zone are UTC. Rows are replayed in file order, bad ones included: the QuoteGuard, not the
file reader, decides what may be traded on."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.candles import Candle, quote_candle, resample
from core.errors import PriceDataError
from core.instruments import InstrumentTable
from core.quotes import Quote

_TIME_NAMES = ("", "time", "timestamp", "date", "datetime")


class CsvReplayFeed:
    def __init__(self, quotes: Sequence[Quote]) -> None:
        self._quotes = quotes
        self._position = 0
        self._latest: dict[str, Quote] = {}
        self._replayed: dict[str, list[Candle]] = {}

    @classmethod
    def from_csv(
        cls,
        path: Path,
        instruments: InstrumentTable,
        *,
        instrument: str | None = None,
        spread_points: int = 0,
        bar_period: timedelta = timedelta(hours=1),
    ) -> CsvReplayFeed:
        quotes = load_quotes(path, instruments, instrument=instrument, spread_points=spread_points, bar_period=bar_period)
        return cls(quotes)

    def __len__(self) -> int:
        return len(self._quotes)

    def advance(self) -> Quote | None:
        """The next quote (it becomes the latest of its instrument), or None at the end of the file."""
        if self._position >= len(self._quotes):
            return None
        quote = self._quotes[self._position]
        self._position += 1
        self._latest[quote.instrument] = quote
        self._replayed.setdefault(quote.instrument, []).append(quote_candle(quote))
        return quote

    def fast_forward(self, until: datetime) -> int:
        """Replay, without yielding, every quote before `until` (history for charts); how many there were."""
        skipped = 0
        while self._position < len(self._quotes) and self._quotes[self._position].time < until:
            self.advance()
            skipped += 1
        return skipped

    async def replay(self, *, delay_seconds: float = 0.0) -> AsyncIterator[Quote]:
        """The remaining quotes, one at a time, yielding to the event loop (and pausing) between them."""
        while (quote := self.advance()) is not None:
            yield quote
            await asyncio.sleep(delay_seconds)

    # --- the PriceFeed port: only what has been replayed so far, as a live feed would know it ---

    async def latest_quote(self, instrument: str) -> Quote | None:
        return self._latest.get(instrument)

    async def candles(self, instrument: str, *, timeframe: timedelta, limit: int) -> list[Candle]:
        merged = resample(self._replayed.get(instrument, ()), timeframe)
        return merged[-limit:] if limit > 0 else []


@dataclass(frozen=True)
class PriceFile:
    quotes: list[Quote]
    bars: list[Candle]  # a bar file's own bars (history for charts); empty for a file of ticks


def load_quotes(
    path: Path,
    instruments: InstrumentTable,
    *,
    instrument: str | None = None,
    spread_points: int = 0,
    bar_period: timedelta = timedelta(hours=1),
) -> list[Quote]:
    return load_price_file(path, instruments, instrument=instrument, spread_points=spread_points, bar_period=bar_period).quotes


def load_price_file(
    path: Path,
    instruments: InstrumentTable,
    *,
    instrument: str | None = None,
    spread_points: int = 0,
    bar_period: timedelta = timedelta(hours=1),
) -> PriceFile:
    with path.open(newline="") as file:
        rows = csv.reader(file)
        header = [name.strip().lower() for name in next(rows, [])]
        columns = {name: index for index, name in enumerate(header)}
        time_column = next((columns[n] for n in _TIME_NAMES if n in columns), None)
        if time_column is None:
            raise PriceDataError(f"{path}: no time column in the header {header}")
        if {"bid", "ask"} <= columns.keys():
            return PriceFile(list(_ticks(path, rows, columns, time_column, instrument)), [])
        if {"open", "high", "low", "close"} <= columns.keys():
            if instrument is None:
                raise PriceDataError(f"{path}: a file of bars needs the instrument it holds")
            spread = spread_points * instruments.spec(instrument).point
            bars = list(_bars(path, rows, columns, time_column))
            return PriceFile([q for bar in bars for q in _bar_quotes(instrument, bar, spread, bar_period)], bars)
    raise PriceDataError(f"{path}: header {header} has neither bid/ask nor open/high/low/close columns")


def _ticks(
    path: Path, rows: Iterator[list[str]], columns: dict[str, int], time_column: int, instrument: str | None
) -> Iterator[Quote]:
    if "instrument" not in columns and instrument is None:
        raise PriceDataError(f"{path}: ticks need an instrument column or an instrument parameter")
    for line, row in enumerate(rows, start=2):
        cell = _Cells(path, line, row)
        name = cell.text(columns["instrument"]) if "instrument" in columns else instrument
        assert name is not None
        yield Quote(name, cell.price(columns["bid"]), cell.price(columns["ask"]), cell.time(time_column))


def _bars(path: Path, rows: Iterator[list[str]], columns: dict[str, int], time_column: int) -> Iterator[Candle]:
    for line, row in enumerate(rows, start=2):
        cell = _Cells(path, line, row)
        bar = Candle(
            cell.time(time_column),
            *(cell.price(columns[name]) for name in ("open", "high", "low", "close")),
        )
        if not (bar.low <= min(bar.open, bar.close) and bar.high >= max(bar.open, bar.close) and bar.low > 0):
            raise PriceDataError(f"{path}:{line}: inconsistent bar {bar.open}/{bar.high}/{bar.low}/{bar.close}")
        yield bar


def _bar_quotes(instrument: str, bar: Candle, spread: Decimal, period: timedelta) -> list[Quote]:
    # A rising bar most likely dipped before it rose, a falling one rose before it fell.
    rising = bar.close >= bar.open
    prices = (bar.open, bar.low, bar.high, bar.close) if rising else (bar.open, bar.high, bar.low, bar.close)
    step = period / len(prices)
    return [Quote(instrument, price, price + spread, bar.time + step * i) for i, price in enumerate(prices)]


class _Cells:
    """One row's cells, with errors that name the file and line."""

    def __init__(self, path: Path, line: int, row: list[str]) -> None:
        self._where = f"{path}:{line}"
        self._row = row

    def text(self, index: int) -> str:
        try:
            return self._row[index].strip()
        except IndexError:
            raise PriceDataError(f"{self._where}: the row has only {len(self._row)} columns") from None

    def price(self, index: int) -> Decimal:
        raw = self.text(index)
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise PriceDataError(f"{self._where}: {raw!r} is not a number") from None

    def time(self, index: int) -> datetime:
        raw = self.text(index)
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise PriceDataError(f"{self._where}: {raw!r} is not an ISO 8601 time") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
