"""Plain data in and out of chart rendering: what the caller describes, and the PNG it gets back.

Everything here is frozen, hashable-by-value and picklable, so a chart description can be hashed
for the cache and shipped to a worker process unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

# Prices and money arrive as Decimal from core and as float from feeds; both are accepted.
# None (and NaN / infinity) marks a missing value that the chart skips.
Price = float | Decimal


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLC bar. `time` is the bar's open time, timezone-aware UTC (a naive time is taken as UTC)."""

    time: datetime
    open: Price | None
    high: Price | None
    low: Price | None
    close: Price | None


@dataclass(frozen=True, slots=True)
class LevelSet:
    """A signal's prices: drawn as labelled lines, with risk (entry↔stop) and reward (entry↔target) shaded."""

    entry: Price | None
    stop: Price | None
    target: Price | None


@dataclass(frozen=True, slots=True)
class EquityPoint:
    time: datetime
    equity: Price | None


@dataclass(frozen=True, slots=True)
class CandlestickChart:
    """Candles of one instrument with SMA 20/50/200 where history allows, and optionally a signal's levels.

    `visible` draws only that many of the latest candles; the earlier ones still feed the averages, so
    300 candles with visible=100 show SMA 200 across the whole plot. None draws all of them (merged into
    buckets when there are too many to tell apart).
    `decimals` is how many decimals prices are shown with (from the instrument's point, e.g. 5 for
    EURUSD); None derives it from the price range.
    """

    kind: ClassVar[str] = "candles"

    instrument: str
    timeframe: str
    candles: tuple[Candle, ...]
    levels: LevelSet | None = None
    visible: int | None = None
    decimals: int | None = None


@dataclass(frozen=True, slots=True)
class EquityChart:
    """An account's equity over time with its drawdown below, and the drawdown cap (percent) as a line."""

    kind: ClassVar[str] = "equity"

    account: str
    points: tuple[EquityPoint, ...]
    drawdown_cap_percent: Price | None = None
    currency: str = ""


@dataclass(frozen=True, slots=True)
class PnlChart:
    """Distribution of closed-trade PnL (one value per trade, in account currency)."""

    kind: ClassVar[str] = "pnl"

    account: str
    pnls: tuple[Price | None, ...]
    currency: str = ""


ChartSpec = CandlestickChart | EquityChart | PnlChart


@dataclass(frozen=True, slots=True)
class RenderedChart:
    """PNG bytes plus notes on what could not be drawn, short enough for a photo caption."""

    png: bytes
    notes: tuple[str, ...] = ()
