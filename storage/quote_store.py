"""Prices in SQL: the latest quote per instrument and the candles built from quotes (or loaded from CSV).

The `QuoteStore` port (a `PriceFeed` too) on SQLite and PostgreSQL. Bars are kept at one period, the
store's `bar_period`; coarser candles are resampled from them on reading. Money is text on SQLite, so a
bar's high and low are merged in Python inside the transaction, never by SQL `max()`/`min()` (which would
compare text there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.candles import Candle, bucket_start, quote_candle, resample
from core.errors import StorageUnavailable
from core.quotes import Quote
from storage.batch_runner import BatchRunner
from storage.models import PriceBarRow, LatestQuoteRow
from storage.upsert import insert_for

LATEST: Table = LatestQuoteRow.__table__  # type: ignore[assignment]
BARS: Table = PriceBarRow.__table__  # type: ignore[assignment]
Result = TypeVar("Result")

__all__ = ["SqlQuoteStore"]


class SqlQuoteStore:
    """`QuoteStore` on the database behind `runner` (`storage.batch_runner.batch_runner_for(engine)`)."""

    def __init__(self, runner: BatchRunner, *, bar_period: timedelta) -> None:
        if bar_period <= timedelta(0) or bar_period % timedelta(seconds=1):
            raise ValueError("bar_period must be a positive whole number of seconds")
        self._runner = runner
        self._period = bar_period

    @property
    def bar_period(self) -> timedelta:
        return self._period

    async def record(self, quotes: Sequence[Quote]) -> None:
        latest: dict[str, Quote] = {}
        bars: dict[tuple[str, datetime], Candle] = {}
        for quote in quotes:
            latest[quote.instrument] = quote
            _merge_into(bars, quote.instrument, quote_candle(quote), self._period)
        if quotes:
            await self._run(lambda conn: _record(conn, list(latest.values()), bars, self._period))

    async def load_bars(self, instrument: str, candles: Sequence[Candle]) -> int:
        """Store `candles` (time-ordered) resampled to the bar period; a bar already stored at the same start
        is replaced. Candles coarser than the bar period are stored as they are, at their bucket's start."""
        merged = resample(candles, self._period)
        if merged:
            await self._run(lambda conn: _replace_bars(conn, instrument, merged, self._period))
        return len(merged)

    # --- the PriceFeed port ---

    async def latest_quote(self, instrument: str) -> Quote | None:
        return await self._run(lambda conn: _latest(conn, instrument))

    async def candles(self, instrument: str, *, timeframe: timedelta, limit: int) -> list[Candle]:
        """The latest `limit` candles of `timeframe` (a whole multiple of the bar period), oldest first."""
        if timeframe <= timedelta(0) or timeframe % self._period:
            raise ValueError(f"candles of {timeframe} cannot be built from {self._period} bars; ask for a multiple of it")
        if limit <= 0:
            return []
        per_candle = timeframe // self._period
        bars = await self._run(lambda conn: _latest_bars(conn, instrument, self._period, limit * per_candle))
        return resample(bars, timeframe)[-limit:]

    async def _run(self, work: Callable[[Connection], Result]) -> Result:
        try:
            return await self._runner.run(work)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailable("the database is unavailable; no price was stored or read") from exc


def _merge_into(bars: dict[tuple[str, datetime], Candle], instrument: str, candle: Candle, period: timedelta) -> None:
    start = bucket_start(candle.time, period)
    earlier = bars.get((instrument, start))
    bars[(instrument, start)] = _merged(earlier, candle, start)


def _merged(earlier: Candle | None, later: Candle, start: datetime) -> Candle:
    if earlier is None:
        return Candle(start, later.open, later.high, later.low, later.close)
    return Candle(start, earlier.open, max(earlier.high, later.high), min(earlier.low, later.low), later.close)


# --- steps, each inside one transaction ---


def _record(conn: Connection, latest: Sequence[Quote], bars: dict[tuple[str, datetime], Candle], period: timedelta) -> None:
    for quote in latest:
        values = {"bid": quote.bid, "ask": quote.ask, "time": quote.time}
        statement = insert_for(conn, LATEST).values(instrument=quote.instrument, **values)
        # A quote older than the stored one (another process got a newer one first) leaves it in place.
        conn.execute(statement.on_conflict_do_update(index_elements=["instrument"], set_=values, where=LATEST.c.time <= quote.time))
    seconds = int(period.total_seconds())
    for (instrument, start), bar in sorted(bars.items()):  # one lock order for every writer
        key = {"instrument": instrument, "timeframe_seconds": seconds, "start": start}
        # Create the bar if it is new; then lock it, so two processes merging into one bar both count.
        inserted = conn.execute(
            insert_for(conn, BARS).values(**key, open=bar.open, high=bar.high, low=bar.low, close=bar.close)
            .on_conflict_do_nothing(index_elements=list(key))
        ).rowcount
        if inserted:
            continue
        where = (BARS.c.instrument == instrument, BARS.c.timeframe_seconds == seconds, BARS.c.start == start)
        row = conn.execute(select(BARS).where(*where).with_for_update()).one()
        stored = _merged(_candle(row), bar, start)
        conn.execute(BARS.update().where(*where).values(high=stored.high, low=stored.low, close=stored.close))


def _replace_bars(conn: Connection, instrument: str, bars: Sequence[Candle], period: timedelta) -> None:
    seconds = int(period.total_seconds())
    for bar in bars:
        prices = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close}
        conn.execute(
            insert_for(conn, BARS)
            .values(instrument=instrument, timeframe_seconds=seconds, start=bar.time, **prices)
            .on_conflict_do_update(index_elements=["instrument", "timeframe_seconds", "start"], set_=prices)
        )


def _latest(conn: Connection, instrument: str) -> Quote | None:
    row = conn.execute(select(LATEST).where(LATEST.c.instrument == instrument)).one_or_none()
    return None if row is None else Quote(row.instrument, row.bid, row.ask, row.time)


def _latest_bars(conn: Connection, instrument: str, period: timedelta, count: int) -> list[Candle]:
    """The latest `count` stored bars, oldest first. Resampled to k bar periods with count = limit * k, the
    last `limit` candles are whole: a bucket holds at most k bars, so the bars span at least `limit`
    buckets; only the oldest spanned may be cut short, and when exactly `limit` are spanned each is full."""
    query = (
        select(BARS)
        .where(BARS.c.instrument == instrument, BARS.c.timeframe_seconds == int(period.total_seconds()))
        .order_by(BARS.c.start.desc())
        .limit(count)
    )
    return [_candle(row) for row in reversed(conn.execute(query).all())]


def _candle(row: object) -> Candle:
    return Candle(row.start, row.open, row.high, row.low, row.close)  # type: ignore[attr-defined]
