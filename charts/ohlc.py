"""OHLC arrays: built from candles, merged into fewer buckets, and averaged."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from charts.clean import as_float, epoch_seconds, finite_rows
from charts.model import Candle


@dataclass(frozen=True, slots=True)
class OhlcSeries:
    """Parallel arrays, ordered by time (epoch seconds)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def last(self, count: int) -> OhlcSeries:
        start = max(0, len(self) - count)
        return OhlcSeries(self.time[start:], self.open[start:], self.high[start:], self.low[start:], self.close[start:])


def ohlc_from_candles(candles: Sequence[Candle]) -> tuple[OhlcSeries, int]:
    """The usable candles as arrays, and how many were skipped for a missing or invalid value."""
    rows = (
        (epoch_seconds(c.time), as_float(c.open), as_float(c.high), as_float(c.low), as_float(c.close))
        for c in candles
    )
    table, skipped = finite_rows(rows, 5, sort=True)
    time, open_, high, low, close = table.T
    prices = table[:, 1:]
    # A bad tick can put high below the close; widen the range so the wick covers the body.
    return OhlcSeries(time, open_, prices.max(axis=1), prices.min(axis=1), close), skipped


def bucket_ends(count: int, max_buckets: int) -> np.ndarray:
    """Index of the last candle of each bucket when `count` candles are merged into at most `max_buckets`."""
    size = max(1, math.ceil(count / max_buckets))
    return np.minimum(np.arange(size - 1, count + size - 1, size), count - 1)


def merge_buckets(series: OhlcSeries, ends: np.ndarray) -> OhlcSeries:
    """One candle per bucket: first open, highest high, lowest low, last close, first time."""
    starts = np.concatenate(([0], ends[:-1] + 1))
    return OhlcSeries(
        time=series.time[starts],
        open=series.open[starts],
        high=np.maximum.reduceat(series.high, starts),
        low=np.minimum.reduceat(series.low, starts),
        close=series.close[ends],
    )


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average; NaN until `window` values exist."""
    result = np.full(len(values), np.nan)
    if len(values) >= window:
        sums = np.cumsum(np.concatenate(([0.0], values)))
        result[window - 1 :] = (sums[window:] - sums[:-window]) / window
    return result
