"""Equity curve with the drawdown below it (underwater plot, percent) and the drawdown cap."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from charts.clean import as_float, epoch_seconds, finite_rows
from charts.errors import NotEnoughData
from charts.figure import (
    LABEL_SIZE,
    decimals_for,
    new_figure,
    padded_limits,
    png_bytes,
    set_titles,
    style_axes,
    utc_date_axis,
)
from charts.model import EquityChart, RenderedChart
from core.wording import counted
from charts.theme import Palette

_SECONDS_PER_DAY = 86_400
# Few points are drawn with markers so that each one is visible.
_MARKER_LIMIT = 40


def render_equity(spec: EquityChart, palette: Palette) -> RenderedChart:
    rows = ((epoch_seconds(point.time), as_float(point.equity)) for point in spec.points)
    table, skipped = finite_rows(rows, 2, sort=True)
    if len(table) == 0:
        raise NotEnoughData(f"no equity values to chart for {spec.account}")
    notes: list[str] = []
    if skipped:
        notes.append(f"{counted(skipped, 'equity point')} with missing values skipped")
    if len(table) == 1:
        notes.append("only one equity point so far")
    days, equity = table[:, 0] / _SECONDS_PER_DAY, table[:, 1]  # matplotlib dates count days from 1970
    drawdown = drawdown_percent(equity)
    cap = as_float(spec.drawdown_cap_percent)
    if spec.drawdown_cap_percent is not None and not 0 < cap < 100:
        notes.append("drawdown cap not drawn: not a percentage between 0 and 100")
        cap = np.nan

    figure = new_figure(palette)
    figure.subplots_adjust(left=0.03, right=0.9, top=0.9, bottom=0.1, hspace=0.08)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (2.3, 1)})
    for axes in (top, bottom):
        style_axes(axes, palette)
        axes.yaxis.tick_right()

    marker = "o" if len(equity) <= _MARKER_LIMIT else None
    top.plot(days, equity, color=palette.line, linewidth=2.2, marker=marker, markersize=5)
    low, high = padded_limits(float(equity.min()), float(equity.max()), 0.08)
    top.fill_between(days, equity, low, color=palette.line, alpha=0.12, linewidth=0)
    top.set_ylim(low, high)
    money_decimals = min(2, decimals_for(high - low))
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.{money_decimals}f}"))
    top.tick_params(labelbottom=False)

    _draw_drawdown(bottom, days, drawdown, cap, palette)
    bottom.set_xlim(*padded_limits(float(days.min()), float(days.max()), 0.02, flat_span=2.0))
    utc_date_axis(bottom, palette)

    worst = float(np.nanmin(drawdown)) if np.isfinite(drawdown).any() else 0.0
    summary = f"{equity[-1]:,.2f} {spec.currency}".strip() + f" · max drawdown {-worst:.1f}%"
    set_titles(figure, palette, f"Equity · {spec.account}", summary)
    return RenderedChart(png_bytes(figure), tuple(notes))


def drawdown_percent(equity: np.ndarray) -> np.ndarray:
    """(equity − running peak) / running peak, in percent (≤ 0); NaN while the peak is not positive."""
    peak = np.maximum.accumulate(equity)
    result = np.full(len(equity), np.nan)
    np.divide((equity - peak) * 100, peak, out=result, where=peak > 0)
    return result


def _draw_drawdown(axes: Axes, days: np.ndarray, drawdown: np.ndarray, cap: float, palette: Palette) -> None:
    axes.fill_between(days, drawdown, 0, color=palette.down, alpha=0.35, linewidth=0)
    axes.plot(days, drawdown, color=palette.down, linewidth=1.5)
    deepest = min(float(np.nanmin(drawdown)) if np.isfinite(drawdown).any() else 0.0, -cap if cap > 0 else 0.0)
    if cap > 0:
        axes.axhline(-cap, color=palette.cap, linestyle="--", linewidth=1.8)
        axes.text(
            0.01, -cap, f"cap −{cap:g}%", transform=axes.get_yaxis_transform(), va="bottom",
            fontsize=LABEL_SIZE, color=palette.cap,
        )  # fmt: skip
    low = deepest * 1.2 if deepest < 0 else -1.0
    axes.set_ylim(low, -low * 0.08)
    decimals = 0 if -low >= 5 else 1
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.{decimals}f}%"))
    axes.set_ylabel("Drawdown", fontsize=LABEL_SIZE, color=palette.muted)
