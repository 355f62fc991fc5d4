"""The chart on a signal card: the instrument's recent candles with the signal's entry, stop and target."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import timedelta

from charts import Candle, CandlestickChart, ChartError, ChartPhoto, ChartRenderer, LevelSet, Theme
from core.instruments import InstrumentTable
from core.signals import Signal
from core.trading_ports import PriceFeed

log = logging.getLogger(__name__)
SHOWN_CANDLES = 120
_AVERAGE_HISTORY = 200  # read this many more than shown, so SMA 200 spans the whole plot
_REMEMBERED_SIGNALS = 64
# Reading candles is bounded apart from the rendering (charts.render_timeout_seconds): a stuck price feed
# must not hold a card back either.
_READ_TIMEOUT_SECONDS = 2.0


class SignalCharts:
    """Charts for signal cards, from the price feed's candles (none known: no chart, the card is text).

    One chart per signal: its candles are read when its first card goes out and kept for the others, so
    every recipient gets the same picture, rendered and uploaded once, even while new quotes arrive.
    """

    def __init__(
        self,
        prices: PriceFeed | None,
        renderer: ChartRenderer,
        instruments: InstrumentTable,
        *,
        timeframe: timedelta,
        theme: Theme,
    ) -> None:
        self._prices = prices
        self._renderer = renderer
        self._instruments = instruments
        self._timeframe = timeframe
        self._theme = theme
        self._charts: OrderedDict[str, asyncio.Task[CandlestickChart | None]] = OrderedDict()

    async def photo_for(self, signal: Signal) -> ChartPhoto | None:
        """The card's chart; None when there are no candles, nothing drawable, or it is not ready in time."""
        if self._prices is None:
            return None
        chart = await asyncio.shield(self._chart_of(signal))
        if chart is None:
            return None
        try:
            return await self._renderer.render(chart, self._theme)
        except ChartError as exc:
            log.info("event=card_chart_skipped signal_id=%s reason=%s", signal.id, exc)
            return None

    def _chart_of(self, signal: Signal) -> asyncio.Task[CandlestickChart | None]:
        task = self._charts.get(signal.id)
        if task is None:
            task = asyncio.create_task(self._read(signal), name=f"card-candles-{signal.short_id}")
            self._charts[signal.id] = task
            if len(self._charts) > _REMEMBERED_SIGNALS:
                self._charts.popitem(last=False)
        self._charts.move_to_end(signal.id)
        return task

    async def _read(self, signal: Signal) -> CandlestickChart | None:
        assert self._prices is not None
        try:
            async with asyncio.timeout(_READ_TIMEOUT_SECONDS):
                candles = await self._prices.candles(
                    signal.instrument, timeframe=self._timeframe, limit=SHOWN_CANDLES + _AVERAGE_HISTORY
                )
        except Exception as exc:  # no chart is better than a late or lost card
            log.warning("event=card_candles_unavailable signal_id=%s error=%s", signal.id, type(exc).__name__)
            return None
        if not candles:
            return None
        return CandlestickChart(
            signal.instrument,
            timeframe_label(self._timeframe),
            tuple(Candle(c.time, c.open, c.high, c.low, c.close) for c in candles),
            LevelSet(signal.price, signal.stop_loss, signal.take_profit),
            visible=SHOWN_CANDLES,
            decimals=self._instruments.spec(signal.instrument).decimals,
        )


def timeframe_label(timeframe: timedelta) -> str:
    """MetaTrader's names: M15, H1, H4, D1."""
    minutes = int(timeframe.total_seconds() // 60)
    if minutes and minutes % 1440 == 0:
        return f"D{minutes // 1440}"
    if minutes and minutes % 60 == 0:
        return f"H{minutes // 60}"
    return f"M{minutes}"
