"""Candlestick chart: candles, SMA 20/50/200 where history allows, and a signal's levels."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.ticker import FormatStrFormatter, FuncFormatter, MaxNLocator

from charts.errors import ChartError, NotEnoughData
from charts.figure import (
    LABEL_SIZE,
    add_legend,
    decimals_for,
    new_figure,
    padded_limits,
    png_bytes,
    set_titles,
    style_axes,
)
from charts.levels import TAG_STRIP, Levels, draw_levels
from charts.model import CandlestickChart, RenderedChart
from core.wording import counted
from charts.ohlc import OhlcSeries, bucket_ends, merge_buckets, moving_average, ohlc_from_candles
from charts.theme import Palette

SMA_WINDOWS = (20, 50, 200)
# Beyond this many candles bodies get thinner than ~3 px at 1280 px; more are merged into buckets.
MAX_CANDLES = 240
_BODY_WIDTH = 0.7
# A time step this many times the usual one is a gap (weekend, outage) and gets a faint separator.
_GAP_FACTOR = 3
# Bad ticks are kept off the price scale: a body this many median absolute deviations from the median
# price, or a wick reaching this many typical candle ranges beyond all sane bodies.
_OUTLIER_DEVIATIONS = 30
_WICK_REACH = 10
# More gaps than this are the market's weekly rhythm on a long view, not events worth a mark.
_MAX_GAP_MARKS = 4


def render_candles(spec: CandlestickChart, palette: Palette) -> RenderedChart:
    if spec.visible is not None and spec.visible < 1:
        raise ChartError(f"visible must be at least 1 candle, not {spec.visible}")
    history, skipped = ohlc_from_candles(spec.candles)
    if len(history) == 0:
        raise NotEnoughData(f"no candles with prices to chart for {spec.instrument} {spec.timeframe}")
    notes: list[str] = []
    if skipped:
        notes.append(f"{counted(skipped, 'candle')} with missing prices skipped")

    drawn = history.last(spec.visible) if spec.visible is not None else history
    ends = bucket_ends(len(drawn), MAX_CANDLES)
    shown = merge_buckets(drawn, ends)
    if len(shown) < len(drawn):
        notes.append(f"{len(drawn)} candles merged into {len(shown)} for display")
    # Averages come from the full history so SMA 200 keeps meaning 200 bars of the timeframe.
    skip = len(history) - len(drawn)
    averages = {window: moving_average(history.close, window)[skip:][ends] for window in SMA_WINDOWS}
    # A line needs two points; with fewer the average would sit in the legend with nothing drawn.
    averages = {window: line for window, line in averages.items() if np.count_nonzero(np.isfinite(line)) >= 2}
    if len(averages) < len(SMA_WINDOWS):
        absent = "/".join(str(w) for w in SMA_WINDOWS if w not in averages)
        notes.append(f"only {counted(len(history), 'candle')}: no SMA {absent}")

    levels = Levels.of(spec.levels) if spec.levels is not None else None
    if levels is not None and levels.missing():
        notes.append(f"signal {', '.join(levels.missing())} not drawn: no valid price")

    figure = new_figure(palette)
    figure.subplots_adjust(left=0.04, right=0.915, top=0.9, bottom=0.12)
    axes = figure.add_subplot()
    style_axes(axes, palette)

    low, high, off_scale = _price_limits(shown, levels.prices() if levels else [])
    if off_scale:
        notes.append(f"{counted(off_scale, 'candle')} beyond the price scale (bad ticks?)")
    decimals = min(max(spec.decimals, 0), 10) if spec.decimals is not None else decimals_for(high - low)
    axes.set_ylim(low, high)
    axes.set_xlim(*_x_limits(len(shown), room_for_tags=levels is not None))

    _draw_candles(axes, shown, palette)
    for (window, values), colour in zip(averages.items(), palette.averages, strict=False):
        axes.plot(np.arange(len(shown)), values, color=colour, linewidth=1.8, label=f"SMA {window}")
    _mark_gaps(axes, shown.time, palette)
    if levels is not None:
        draw_levels(axes, levels, palette, decimals)

    _time_axis(axes, shown.time, palette)
    axes.yaxis.tick_right()
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
    axes.yaxis.set_major_formatter(FormatStrFormatter(f"%.{decimals}f"))
    if averages:  # in the header, where it hides no candles
        add_legend(figure, palette, loc="center", bbox_to_anchor=(0.5, 0.955), ncol=len(averages), frameon=False)
    set_titles(figure, palette, f"{spec.instrument} · {spec.timeframe}", _summary(shown, levels, decimals))
    return RenderedChart(png_bytes(figure), tuple(notes))


def _price_limits(shown: OhlcSeries, level_prices: list[float]) -> tuple[float, float, int]:
    """Y limits covering the candles and levels but not bad ticks; and how many candles reach beyond them.

    Bodies far from the median price (in median absolute deviations) are bad ticks, and wicks may reach
    only so far beyond the remaining bodies: one spike at 1e6 must not flatten a EURUSD chart.
    """
    bodies = np.concatenate([shown.open, shown.close])
    middle = float(np.median(bodies))
    # Floored so that flat prices still leave some room.
    deviation = max(float(np.median(np.abs(bodies - middle))), abs(middle) * 1e-3, 1e-9)
    sane = bodies[np.abs(bodies - middle) <= _OUTLIER_DEVIATIONS * deviation]
    reach = _WICK_REACH * float(np.median(shown.high - shown.low))
    low = max(float(shown.low.min()), float(sane.min()) - reach)
    high = min(float(shown.high.max()), float(sane.max()) + reach)
    off_scale = int(np.count_nonzero((shown.low < low) | (shown.high > high)))
    low, high = min([low, *level_prices]), max([high, *level_prices])
    return (*padded_limits(low, high, 0.06), off_scale)


def _x_limits(count: int, *, room_for_tags: bool) -> tuple[float, float]:
    left, right = -0.75, count - 0.25
    if room_for_tags:  # widen so the last candle ends where the tag strip starts
        right = left + (right - left) / (1 - TAG_STRIP)
    return left, right


def _draw_candles(axes: Axes, shown: OhlcSeries, palette: Palette) -> None:
    x = np.arange(len(shown), dtype=float)
    colours = np.where(shown.close >= shown.open, palette.up, palette.down)
    wicks = np.stack([np.column_stack([x, shown.low]), np.column_stack([x, shown.high])], axis=1)
    axes.add_collection(LineCollection(wicks, colors=colours, linewidths=1.2, zorder=2), autolim=False)
    bottom, top = np.minimum(shown.open, shown.close), np.maximum(shown.open, shown.close)
    half = _BODY_WIDTH / 2
    bodies = np.stack(
        [
            np.column_stack([x - half, bottom]),
            np.column_stack([x - half, top]),
            np.column_stack([x + half, top]),
            np.column_stack([x + half, bottom]),
        ],
        axis=1,
    )
    # The edge keeps a doji (open == close) visible as a line.
    axes.add_collection(
        PolyCollection(bodies, facecolors=colours, edgecolors=colours, linewidths=0.8, zorder=2), autolim=False
    )


def _mark_gaps(axes: Axes, times: np.ndarray, palette: Palette) -> None:
    if len(times) < 3:
        return
    steps = np.diff(times)
    gaps = np.flatnonzero(steps > _GAP_FACTOR * np.median(steps))
    if len(gaps) > _MAX_GAP_MARKS:
        return
    for index in gaps:
        axes.axvline(index + 0.5, color=palette.muted, linestyle=":", linewidth=1, alpha=0.6, zorder=1)


def _time_axis(axes: Axes, times: np.ndarray, palette: Palette) -> None:
    """Candles sit at 0..n-1 (so gaps take no room); ticks are labelled with their UTC time."""
    intraday = len(times) < 2 or float(np.median(np.diff(times))) < 86_400
    pattern = "%d %b\n%H:%M" if intraday else "%d %b\n%Y"

    def label(value: float, _position: int) -> str:
        index = round(value)
        if not 0 <= index < len(times):
            return ""
        return datetime.fromtimestamp(times[index], UTC).strftime(pattern)

    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(label))
    axes.set_xlabel("UTC", fontsize=LABEL_SIZE, color=palette.muted, loc="right")


def _summary(shown: OhlcSeries, levels: Levels | None, decimals: int) -> str:
    summary = f"Last {shown.close[-1]:.{decimals}f}"
    ratio = levels.reward_to_risk() if levels is not None else None
    return summary if ratio is None else f"{summary} · R:R {ratio:.1f}"
