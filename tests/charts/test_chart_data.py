"""Properties of the numeric steps behind the charts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from charts import Candle, CandlestickChart, LevelSet, PnlChart, Theme, chart_key
from charts.equity import drawdown_percent
from charts.figure import decimals_for, padded_limits
from charts.levels import spread_apart
from charts.ohlc import bucket_ends, merge_buckets, moving_average, ohlc_from_candles
from charts.pnl import bin_edges
from tests.charts.chart_samples import START, hourly


@pytest.mark.parametrize("count", [1, 7, 239, 240, 241, 1000, 5000])
def test_buckets_cover_every_candle_once_and_stay_bounded(count):
    ends = bucket_ends(count, 240)
    assert len(ends) <= 240
    assert ends[-1] == count - 1 and np.all(np.diff(ends) > 0)


def test_merged_candle_takes_first_open_extremes_and_last_close(eurusd):
    series, _ = ohlc_from_candles(eurusd[:10])
    merged = merge_buckets(series, bucket_ends(10, 2))
    assert len(merged) == 2
    assert merged.open[0] == series.open[0] and merged.close[0] == series.close[4]
    assert merged.high[1] == series.high[5:].max() and merged.low[1] == series.low[5:].min()
    assert merged.time[1] == series.time[5]


def test_candle_range_is_widened_to_cover_a_body_outside_it():
    series, skipped = ohlc_from_candles((Candle(START, 10, 9, 8, 11),))  # high below open and close
    assert skipped == 0
    assert series.high[0] == 11 and series.low[0] == 8


def test_moving_average_matches_the_plain_mean():
    values = np.arange(30, dtype=float) ** 1.5
    average = moving_average(values, 20)
    assert np.isnan(average[:19]).all()
    assert average[25] == pytest.approx(values[6:26].mean())
    assert np.isnan(moving_average(values, 50)).all()


def test_zero_range_gets_padding_and_decimals_follow_the_instrument():
    low, high = padded_limits(1.1, 1.1)
    assert low < 1.1 < high
    assert padded_limits(0.0, 0.0) == (-0.5, 0.5)
    assert (decimals_for(0.015), decimals_for(40.0), decimals_for(3000.0)) == (5, 2, 0)


@pytest.mark.parametrize(
    "pnls",
    [[-30.0, 5.0, 12.0, 40.0], [10.0] * 50 + [5e11], [7.0], [0.0, 0.0], list(np.random.default_rng(6).normal(3, 50, 5000))],
    ids=["mixed", "outlier", "single", "break-even", "many"],
)
def test_pnl_bins_have_an_edge_at_zero_and_a_bounded_count(pnls):
    edges = bin_edges(np.array(pnls))
    assert np.isclose(edges, 0).any()
    assert 2 <= len(edges) <= 42
    assert edges[0] <= min(pnls) and edges[-1] >= max(pnls)


def test_drawdown_is_percent_below_the_running_peak():
    drawdown = drawdown_percent(np.array([100.0, 120.0, 90.0, 130.0, -10.0]))
    assert drawdown[:4] == pytest.approx([0, 0, -25, 0])
    assert drawdown[4] == pytest.approx(-140 / 130 * 100)
    assert np.isnan(drawdown_percent(np.array([0.0, -5.0]))).all()


def test_price_tags_are_spread_apart_in_order_and_inside_the_plot():
    placed = spread_apart([0.50, 0.51, 0.99], 0.05)
    assert placed[0] < placed[1] < placed[2] <= 0.975
    assert min(np.diff(sorted(placed))) >= 0.05 - 1e-9
    assert spread_apart([0.2, 0.8], 0.05) == pytest.approx([0.2, 0.8])


def test_cache_key_follows_drawn_values_and_theme_only():
    spec = CandlestickChart("EURUSD", "H1", hourly([1.1, 1.2]), LevelSet(1.2, 1.1, 1.4))
    same = CandlestickChart("EURUSD", "H1", hourly([1.1, 1.2]), LevelSet(1.2, 1.1, 1.4))
    assert chart_key(spec, Theme.DARK) == chart_key(same, Theme.DARK)
    assert chart_key(spec, Theme.DARK) != chart_key(spec, Theme.LIGHT)
    nudged = CandlestickChart("EURUSD", "H1", hourly([1.1, 1.2000001]), LevelSet(1.2, 1.1, 1.4))
    assert chart_key(spec, Theme.DARK) != chart_key(nudged, Theme.DARK)
    # Series are keyed by the doubles drawn: Decimal prices equal to the floats share the key...
    as_decimal = tuple(Candle(c.time, *(Decimal(repr(v)) for v in (c.open, c.high, c.low, c.close))) for c in same.candles)
    assert chart_key(replace(same, candles=as_decimal), Theme.DARK) == chart_key(same, Theme.DARK)
    # ...and a series with a missing value still gets a key of its own.
    gappy = PnlChart("paper", (1.0, None)), PnlChart("paper", (None, 1.0))
    assert chart_key(gappy[0], Theme.DARK) != chart_key(gappy[1], Theme.DARK)
