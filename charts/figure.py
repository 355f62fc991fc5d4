"""Figure plumbing shared by every chart: size, fonts, theme colours, axis limits and PNG output.

Only matplotlib's object-oriented API is used (a Figure with its own Agg canvas), so renders share no
global state and can run in parallel threads or processes.
"""

from __future__ import annotations

import math
from datetime import UTC
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from charts.png import png_from_rgba
from charts.theme import Palette

WIDTH_PX, HEIGHT_PX, DPI = 1280, 720, 100
# Sizes in points at 100 dpi, large enough to stay readable when Telegram shrinks the photo to a phone.
TITLE_SIZE = 20
LABEL_SIZE = 15
TICK_SIZE = 14
LEGEND_SIZE = 14


def new_figure(palette: Palette) -> Figure:
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=palette.background)
    FigureCanvasAgg(figure)
    return figure


def style_axes(axes: Axes, palette: Palette) -> None:
    axes.set_facecolor(palette.background)
    for spine in axes.spines.values():
        spine.set_color(palette.grid)
    axes.tick_params(colors=palette.muted, labelcolor=palette.text, labelsize=TICK_SIZE)
    axes.grid(True, color=palette.grid, linewidth=0.8)
    axes.set_axisbelow(True)


def set_titles(figure: Figure, palette: Palette, left: str, right: str = "") -> None:
    """Chart title on the left, a one-line summary on the right, both above the plot.

    Figure text rather than axes titles: axes titles cost a tight-bbox layout pass on every draw.
    """
    figure.text(0.02, 0.955, left, fontsize=TITLE_SIZE, fontweight="bold", color=palette.text, va="center")
    if right:
        figure.text(0.98, 0.955, right, fontsize=LABEL_SIZE, color=palette.muted, ha="right", va="center")


def add_legend(owner: Axes | Figure, palette: Palette, **placement: Any) -> None:
    """A legend of the labelled artists, on an axes or on the figure, placed by `placement`."""
    owner.legend(
        fontsize=LEGEND_SIZE,
        labelcolor=palette.text,
        facecolor=palette.background,
        edgecolor=palette.grid,
        framealpha=0.85,
        **placement,
    )


def padded_limits(low: float, high: float, fraction: float = 0.05, flat_span: float | None = None) -> tuple[float, float]:
    """Axis limits around [low, high] with a margin of `fraction`. A zero range (flat prices, a single
    point) is centred in a range of `flat_span`, by default 1 % of the value."""
    span = high - low
    if span <= 0:
        half = (flat_span if flat_span is not None else abs(high) * 0.01 or 1.0) / 2
        return low - half, high + half
    return low - span * fraction, high + span * fraction


def decimals_for(span: float) -> int:
    """Decimals that show about three significant digits of a range, e.g. 5 for EURUSD, 2 for gold."""
    if span <= 0 or not math.isfinite(span):
        return 2
    return min(8, max(0, math.ceil(-math.log10(span / 1000))))


def utc_date_axis(axes: Axes, palette: Palette) -> None:
    """Dates on x (matplotlib date numbers) labelled compactly in UTC, with "UTC" below on the right."""
    locator = AutoDateLocator(tz=UTC, minticks=4, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    axes.set_xlabel("UTC", fontsize=LABEL_SIZE, color=palette.muted, loc="right")
    # The date the ticks leave out (e.g. "2026-Nov" when they are days) goes bottom left, clear of "UTC".
    offset = axes.xaxis.get_offset_text()
    offset.set(x=0.0, horizontalalignment="left", fontsize=LABEL_SIZE, color=palette.muted)


def png_bytes(figure: Figure) -> bytes:
    canvas = figure.canvas
    canvas.draw()
    return png_from_rgba(np.asarray(canvas.buffer_rgba()))  # type: ignore[attr-defined]
