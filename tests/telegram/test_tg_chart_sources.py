"""What goes into the charts the bot sends: a signal card's candles and levels, an account's equity and
PnL, from in-memory fakes of the ports (rendering in threads with a stand-in render function)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from bot.telegram.account_charts import PNL, AccountCharts, thinned
from bot.telegram.card_charts import SHOWN_CANDLES, SignalCharts, timeframe_label
from charts import CandlestickChart, ChartCache, ChartRenderer, ChartSpec, PnlChart, RenderedChart, Theme
from core.candles import Candle
from core.errors import StorageUnavailable
from core.instruments import InstrumentTable
from core.memory_trade_store import InMemoryTradeStore
from core.quotes import Quote
from core.signals import Side, Signal, SignalStatus
from core.trades import EquityPoint, Position
from tests.support import START

SIGNAL = Signal(
    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "alpha", "XAUUSD", Side.BUY, Decimal("2400.50"), Decimal("2390.00"),
    Decimal("2420.00"), START, 1, SignalStatus.NEW, START, START,
)  # fmt: skip


class RecordingRender:
    """Stands in for render_chart: remembers each description and answers a tiny 'PNG'."""

    def __init__(self) -> None:
        self.specs: list[ChartSpec] = []

    def __call__(self, spec: ChartSpec, theme: Theme) -> RenderedChart:
        self.specs.append(spec)
        return RenderedChart(f"{spec.kind}-{len(self.specs)}".encode(), ("a note",))


class ChangingFeed:
    """A PriceFeed whose latest candle moves on every read, as a live feed's would."""

    def __init__(self, count: int = 400, error: Exception | None = None) -> None:
        self.count = count
        self.error = error
        self.reads: list[tuple[str, timedelta, int]] = []

    async def latest_quote(self, instrument: str) -> Quote | None:
        return None

    async def candles(self, instrument: str, *, timeframe: timedelta, limit: int) -> list[Candle]:
        self.reads.append((instrument, timeframe, limit))
        if self.error is not None:
            raise self.error
        last = Decimal(2400 + len(self.reads))
        flat = [Candle(START - timedelta(hours=self.count - i), last, last + 1, last - 1, last) for i in range(self.count)]
        return flat[-limit:]


@pytest.fixture
def render() -> RecordingRender:
    return RecordingRender()


@pytest.fixture
async def renderer(render: RecordingRender) -> AsyncIterator[ChartRenderer]:
    with ThreadPoolExecutor(2) as threads:
        async with ChartRenderer(cache=ChartCache(), registry=CollectorRegistry(), executor=threads, render=render) as running:
            yield running


def card_charts(feed: ChangingFeed | None, renderer: ChartRenderer) -> SignalCharts:
    return SignalCharts(feed, renderer, InstrumentTable({}, Decimal("0.01")), timeframe=timedelta(hours=1), theme=Theme.DARK)


async def test_card_chart_shows_the_signals_levels_on_recent_candles_with_history_for_the_averages(renderer, render):
    feed = ChangingFeed()
    photo = await card_charts(feed, renderer).photo_for(SIGNAL)

    assert photo is not None and photo.png == b"candles-1" and photo.notes == ("a note",)
    assert feed.reads == [("XAUUSD", timedelta(hours=1), SHOWN_CANDLES + 200)]
    (spec,) = render.specs
    assert isinstance(spec, CandlestickChart)
    assert (spec.instrument, spec.timeframe, spec.visible, spec.decimals) == ("XAUUSD", "H1", SHOWN_CANDLES, 2)
    assert (spec.levels.entry, spec.levels.stop, spec.levels.target) == (Decimal("2400.50"), Decimal("2390.00"), Decimal("2420.00"))
    assert len(spec.candles) == SHOWN_CANDLES + 200


async def test_every_card_of_a_signal_gets_the_chart_of_its_first_read(renderer, render):
    feed = ChangingFeed()
    charts = card_charts(feed, renderer)
    first, again = await charts.photo_for(SIGNAL), await charts.photo_for(SIGNAL)
    other = await charts.photo_for(replace(SIGNAL, id="0190a1b2-c3d4-7e5f-8a9b-000000000002"))

    assert first is not None and again is not None and other is not None
    assert again.key == first.key and len(render.specs) == 2  # rendered for each signal, once
    assert other.key != first.key and len(feed.reads) == 2  # the other signal read the (moved) market


@pytest.mark.parametrize(
    "feed",
    [None, ChangingFeed(count=0), ChangingFeed(error=StorageUnavailable("database down"))],
    ids=["no-feed", "no-candles", "feed-fails"],
)
async def test_no_candles_means_no_chart(renderer, render, feed):
    assert await card_charts(feed, renderer).photo_for(SIGNAL) is None
    assert render.specs == []


@pytest.mark.parametrize(("minutes", "label"), [(1, "M1"), (15, "M15"), (60, "H1"), (240, "H4"), (90, "M90"), (1440, "D1")])
def test_timeframes_are_named_as_in_metatrader(minutes, label):
    assert timeframe_label(timedelta(minutes=minutes)) == label


def closed(position_id: str, pnl: str | None) -> Position:
    return Position(
        position_id, "tg-111", f"order-{position_id}", "XAUUSD", Side.BUY, Decimal("0.1"), Decimal(2400), Decimal(2390),
        Decimal(2420), START, closed_at=START + timedelta(hours=1), close_price=Decimal(2410), pnl=None if pnl is None else Decimal(pnl),
    )  # fmt: skip


class ClosedBook(InMemoryTradeStore):
    """The in-memory store with closed positions given up front."""

    def __init__(self, positions: list[Position]) -> None:
        super().__init__()
        self.positions = positions

    async def closed_positions(self, account_id: str) -> list[Position]:
        return [p for p in self.positions if p.account_id == account_id]


async def test_pnl_chart_of_closed_trades_or_a_text_when_there_are_none(renderer, render):
    book = ClosedBook([closed("a", "12.50"), closed("b", "-4.00"), closed("c", None), closed("d", "30")])
    charts = AccountCharts(book, renderer, theme=Theme.LIGHT, drawdown_cap_percent=Decimal(20), currency="EUR")

    chart = await charts.message(PNL, "tg-111")
    assert chart.photo is not None and "3 trade(s)" in chart.caption and chart.caption.endswith("<i>a note</i>")
    (spec,) = render.specs
    assert isinstance(spec, PnlChart) and spec.pnls == (Decimal("12.50"), Decimal("-4.00"), Decimal(30))
    assert spec.currency == "EUR"  # the accounts' currency labels the axis
    empty = await charts.message(PNL, "tg-222")
    assert empty.photo is None and empty.caption.startswith("No closed trades yet")
    with pytest.raises(ValueError, match="no account chart"):
        await charts.message("pie", "tg-111")


def test_many_equity_points_are_thinned_keeping_peaks_troughs_and_the_last():
    points = [
        EquityPoint("tg-111", START + timedelta(minutes=i), Decimal(0), Decimal(10_000 + (i % 97) - (500 if i == 4321 else 0)))
        for i in range(10_000)
    ]
    points[7777] = replace(points[7777], equity=Decimal(12_000))
    kept = thinned(points, 1500)

    assert len(kept) <= 1500
    assert [p.time for p in kept] == sorted(p.time for p in kept)
    assert min(p.equity for p in kept) == min(p.equity for p in points)
    assert max(p.equity for p in kept) == Decimal(12_000) and kept[-1] == points[-1]
    assert thinned(points[:10], 1500) == points[:10]
