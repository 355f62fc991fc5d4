"""Candles (OHLC bars) for charts: loaded as bars, or built from quotes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.quotes import Quote

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Candle:
    time: datetime  # the bar's open time, UTC
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def quote_candle(quote: Quote) -> Candle:
    """A one-price candle from a quote's bid (bars are bid prices, as MetaTrader charts them)."""
    return Candle(quote.time, quote.bid, quote.bid, quote.bid, quote.bid)


def bucket_start(moment: datetime, timeframe: timedelta) -> datetime:
    """The start of the `timeframe` bucket holding `moment`, aligned to the Unix epoch (so H1 starts on the hour)."""
    return moment - (moment - _EPOCH) % timeframe


def resample(candles: Iterable[Candle], timeframe: timedelta) -> list[Candle]:
    """Merge time-ordered candles into `timeframe` buckets (e.g. quotes or H1 bars into H4)."""
    if timeframe <= timedelta(0):
        raise ValueError("timeframe must be positive")
    merged: list[Candle] = []
    for candle in candles:
        start = bucket_start(candle.time, timeframe)
        last = merged[-1] if merged else None
        if last is not None and last.time == start:
            merged[-1] = Candle(
                start, last.open, max(last.high, candle.high), min(last.low, candle.low), candle.close
            )
        else:
            merged.append(Candle(start, candle.open, candle.high, candle.low, candle.close))
    return merged
