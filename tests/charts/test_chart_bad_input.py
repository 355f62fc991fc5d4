"""Charts from awkward data: draw what exists, say what is missing, raise only when nothing is drawable."""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from charts import (
    Candle,
    CandlestickChart,
    ChartError,
    EquityChart,
    EquityPoint,
    LevelSet,
    NotEnoughData,
    PnlChart,
    render_chart,
)
from charts.examples import SAMPLE_CSV, load_candles
from tests.charts.chart_png import png_size
from tests.charts.chart_samples import START, hourly


def candles_chart(candles: tuple[Candle, ...], levels: LevelSet | None = None) -> CandlestickChart:
    return CandlestickChart("XAUUSD", "H1", candles, levels)


@pytest.mark.parametrize(
    "spec",
    [
        candles_chart(()),
        candles_chart(hourly([None, None])),
        candles_chart((Candle(START, math.nan, math.inf, -math.inf, Decimal("NaN")),)),
        EquityChart("paper", ()),
        EquityChart("paper", (EquityPoint(START, None), EquityPoint(START, math.nan))),
        PnlChart("paper", ()),
        PnlChart("paper", (None, math.nan, Decimal("sNaN"))),
    ],
    ids=["no-candles", "none-candles", "nan-candles", "no-equity", "nan-equity", "no-pnl", "nan-pnl"],
)
def test_nothing_drawable_raises_not_enough_data(spec):
    with pytest.raises(NotEnoughData, match="no .* to chart"):
        render_chart(spec)


def test_short_history_draws_the_candles_and_says_which_averages_are_missing():
    chart = render_chart(candles_chart(hourly([2400 + i for i in range(30)])))
    assert png_size(chart.png) == (1280, 720)
    assert chart.notes == ("only 30 candles: no SMA 50/200",)


def test_a_single_candle_is_a_chart():
    chart = render_chart(candles_chart(hourly([2400.0]), LevelSet(2400, 2390, 2420)))
    assert png_size(chart.png) == (1280, 720)
    assert chart.notes == ("only 1 candle: no SMA 20/50/200",)


def test_missing_and_non_finite_values_are_skipped_and_counted(eurusd):
    broken = list(eurusd[:240])
    broken[10] = replace(broken[10], close=None)
    broken[11] = replace(broken[11], high=math.nan)
    broken[12] = replace(broken[12], low=Decimal("sNaN"))
    broken[13] = replace(broken[13], open=math.inf)
    broken[14] = replace(broken[14], time=None)  # type: ignore[arg-type]
    chart = render_chart(CandlestickChart("EURUSD", "H1", tuple(broken)))
    assert chart.notes == ("5 candles with missing prices skipped",)


def test_flat_prices_render_with_a_padded_scale():
    flat = tuple(Candle(START + timedelta(hours=i), 1.1, 1.1, 1.1, 1.1) for i in range(60))
    chart = render_chart(candles_chart(flat, LevelSet(1.1, 1.1, 1.1)))
    assert png_size(chart.png) == (1280, 720)


def test_a_bad_tick_is_kept_off_the_price_scale(eurusd):
    spiked = list(eurusd[:200])
    spiked[150] = replace(spiked[150], high=1e6)
    chart = render_chart(CandlestickChart("EURUSD", "H1", tuple(spiked)))
    assert "1 candle beyond the price scale (bad ticks?)" in chart.notes


@pytest.mark.parametrize("extreme", [1e300, -1e300, 1e13, Decimal("1e400")])
def test_implausibly_large_values_are_skipped(eurusd, extreme):
    spiked = list(eurusd[:100])
    spiked[50] = replace(spiked[50], close=extreme)
    chart = render_chart(CandlestickChart("EURUSD", "H1", tuple(spiked)))
    assert "1 candle with missing prices skipped" in chart.notes


def test_thousands_of_candles_are_merged_and_render_fast():
    history = load_candles(SAMPLE_CSV)  # all 5,000 bars
    started = time.perf_counter()
    chart = render_chart(CandlestickChart("EURUSD", "H1", history, LevelSet(1.2, 1.19, 1.22)))
    assert time.perf_counter() - started < 1.0
    assert chart.notes == ("5000 candles merged into 239 for display",)


def test_gaps_order_and_number_types_do_not_change_the_picture(eurusd):
    # The fixture spans weekends (gaps). Shuffled order, Decimal prices and naive UTC times: same chart.
    reference = render_chart(CandlestickChart("EURUSD", "H1", eurusd[:150], decimals=5)).png
    shuffled = list(eurusd[:150])
    random.Random(6).shuffle(shuffled)
    as_decimal = tuple(
        Candle(c.time.replace(tzinfo=None), *(Decimal(repr(v)) for v in (c.open, c.high, c.low, c.close)))
        for c in shuffled
    )
    assert render_chart(CandlestickChart("EURUSD", "H1", as_decimal, decimals=5)).png == reference


def test_levels_without_a_valid_price_are_left_out_and_named():
    chart = render_chart(candles_chart(hourly([2400.0] * 25), LevelSet(entry=2400, stop=None, target=math.nan)))
    assert "signal stop, target not drawn: no valid price" in chart.notes


def test_a_single_trade_and_a_single_equity_point_are_charts():
    single_trade = render_chart(PnlChart("paper", (Decimal("-12.50"),), currency="USD"))
    single_point = render_chart(EquityChart("paper", (EquityPoint(START, Decimal("10000")),), 20))
    assert single_trade.notes == ("only one closed trade so far",)
    assert single_point.notes == ("only one equity point so far",)


def test_break_even_trades_and_an_extreme_trade_render():
    assert png_size(render_chart(PnlChart("paper", (0.0, 0.0, 0.0))).png) == (1280, 720)
    assert png_size(render_chart(PnlChart("paper", (*([10.0] * 50), 5e11))).png) == (1280, 720)


def test_equity_that_is_never_positive_and_a_bad_cap():
    points = tuple(EquityPoint(START.astimezone(UTC) + timedelta(days=i), -100.0 * i) for i in range(5))
    chart = render_chart(EquityChart("paper", points, drawdown_cap_percent=150))
    assert chart.notes == ("drawdown cap not drawn: not a percentage between 0 and 100",)


def test_nonsense_visible_count_is_refused_and_decimals_are_bounded(eurusd):
    with pytest.raises(ChartError, match="visible"):
        render_chart(CandlestickChart("EURUSD", "H1", eurusd, visible=0))
    assert png_size(render_chart(CandlestickChart("EURUSD", "H1", eurusd[:50], decimals=-3)).png) == (1280, 720)


def test_something_else_than_a_chart_description_is_a_type_error():
    with pytest.raises(TypeError):
        render_chart("EURUSD")  # type: ignore[arg-type]
