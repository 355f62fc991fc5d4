"""Histogram of closed-trade PnL with the mean and zero marked."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.ticker import MaxNLocator

from charts.clean import as_float, finite_rows
from charts.errors import NotEnoughData
from charts.figure import (
    LABEL_SIZE,
    add_legend,
    new_figure,
    padded_limits,
    png_bytes,
    set_titles,
    style_axes,
)
from charts.model import PnlChart, RenderedChart
from core.wording import counted
from charts.theme import Palette

_MIN_BINS, _MAX_BINS = 8, 40


def render_pnl(spec: PnlChart, palette: Palette) -> RenderedChart:
    table, skipped = finite_rows(((as_float(value),) for value in spec.pnls), 1, sort=False)
    pnls = table[:, 0]
    if len(pnls) == 0:
        raise NotEnoughData(f"no closed-trade PnL to chart for {spec.account}")
    notes: list[str] = []
    if skipped:
        notes.append(f"{counted(skipped, 'trade')} without a valid PnL skipped")
    if len(pnls) == 1:
        notes.append("only one closed trade so far")

    edges = bin_edges(pnls)
    counts, _ = np.histogram(pnls, edges)

    figure = new_figure(palette)
    figure.subplots_adjust(left=0.07, right=0.97, top=0.9, bottom=0.13)
    axes = figure.add_subplot()
    style_axes(axes, palette)
    # One collection for all bars: far cheaper than a Rectangle artist per bin.
    bars = [[(left, 0), (left, count), (right, count), (right, 0)] for left, right, count in zip(edges[:-1], edges[1:], counts, strict=True)]
    colours = np.where(edges[:-1] >= 0, palette.up, palette.down)
    axes.add_collection(
        PolyCollection(bars, facecolors=colours, edgecolors=palette.background, linewidths=1.2), autolim=False
    )
    mean = float(pnls.mean())
    unit = f" {spec.currency}" if spec.currency else ""
    axes.axvline(0, color=palette.text, linewidth=1.6, label="zero")
    axes.axvline(mean, color=palette.entry, linewidth=2.2, linestyle="--", label=f"mean {mean:+,.2f}{unit}")

    axes.set_xlim(*padded_limits(float(edges[0]), float(edges[-1]), 0.03))
    axes.set_ylim(0, max(int(counts.max()), 1) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(f"PnL per trade ({spec.currency})" if spec.currency else "PnL per trade", fontsize=LABEL_SIZE, color=palette.muted)
    axes.set_ylabel("Trades", fontsize=LABEL_SIZE, color=palette.muted)
    add_legend(axes, palette, loc="upper left")

    won = float((pnls > 0).mean())
    summary = f"{len(pnls)} trades · {won:.0%} won · total {pnls.sum():+,.2f}{unit}"
    set_titles(figure, palette, f"Closed-trade PnL · {spec.account}", summary)
    return RenderedChart(png_bytes(figure), tuple(notes))


def bin_edges(pnls: np.ndarray) -> np.ndarray:
    """Equal-width bins with an edge at zero, so every bar is wholly a loss or a gain.

    The width follows Freedman–Diaconis, bounded to 8..40 bins (fewer for a handful of trades), so an
    extreme value cannot ask for millions of bins.
    """
    low, high = min(float(pnls.min()), 0.0), max(float(pnls.max()), 0.0)
    if low == high:  # every trade broke even
        low, high = -1.0, 1.0
    span = high - low
    q1, q3 = np.percentile(pnls, [25, 75])
    width = 2 * (q3 - q1) / len(pnls) ** (1 / 3)
    most = min(_MAX_BINS, max(_MIN_BINS, len(pnls)))
    count = int(np.clip(span / width if width > 0 else _MIN_BINS, _MIN_BINS, most))
    width = span / count
    return np.arange(np.floor(low / width), np.ceil(high / width) + 1) * width
