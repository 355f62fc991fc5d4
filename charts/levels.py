"""A signal's entry, stop and target on a price chart: lines, shaded risk/reward zones and price tags."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

from charts.clean import as_float
from charts.figure import LEGEND_SIZE
from charts.model import LevelSet
from charts.theme import Palette

# Price tags sit in an empty strip on the right of the plot, this share of its width.
TAG_STRIP = 0.17
# Closest two tags may be, in axes height: one tag's height, so they never overlap.
_TAG_GAP = 0.05
_ZONE_ALPHA = 0.13


@dataclass(frozen=True, slots=True)
class Levels:
    """The finite prices of a LevelSet (None where missing or invalid)."""

    entry: float | None
    stop: float | None
    target: float | None

    @classmethod
    def of(cls, level_set: LevelSet) -> Levels:
        def finite(value: object) -> float | None:
            number = as_float(value)
            return None if np.isnan(number) else number

        return cls(finite(level_set.entry), finite(level_set.stop), finite(level_set.target))

    def prices(self) -> list[float]:
        return [price for price in (self.entry, self.stop, self.target) if price is not None]

    def missing(self) -> list[str]:
        named = {"entry": self.entry, "stop": self.stop, "target": self.target}
        return [name for name, price in named.items() if price is None]

    def reward_to_risk(self) -> float | None:
        if self.entry is None or self.stop is None or self.target is None or self.entry == self.stop:
            return None
        return abs(self.target - self.entry) / abs(self.entry - self.stop)


def draw_levels(axes: Axes, levels: Levels, palette: Palette, decimals: int) -> None:
    """Zones and lines across the plot, tags in the right strip; call after the y limits are final."""
    if levels.entry is not None:
        for other, colour in ((levels.stop, palette.down), (levels.target, palette.up)):
            if other is not None:
                axes.axhspan(min(levels.entry, other), max(levels.entry, other), color=colour, alpha=_ZONE_ALPHA, lw=0)

    tags = [
        (name, price, colour, style)
        for name, price, colour, style in (
            ("Target", levels.target, palette.up, "--"),
            ("Entry", levels.entry, palette.entry, "-"),
            ("Stop", levels.stop, palette.down, "--"),
        )
        if price is not None
    ]
    for _, price, colour, style in tags:
        axes.axhline(price, color=colour, linestyle=style, linewidth=1.8, zorder=3)

    low, high = axes.get_ylim()
    heights = spread_apart([(price - low) / (high - low) for _, price, _, _ in tags], _TAG_GAP)
    for (name, price, colour, _), height in zip(tags, heights, strict=True):
        axes.text(
            1 - TAG_STRIP + 0.01,
            height,
            f"{name} {price:.{decimals}f}",
            transform=axes.transAxes,
            va="center",
            ha="left",
            fontsize=LEGEND_SIZE,
            fontweight="bold",
            color=palette.background,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "none"},
            zorder=5,
        )


def spread_apart(heights: list[float], gap: float) -> list[float]:
    """Move positions (0..1) the least needed so neighbours are at least `gap` apart, keeping their order."""
    order = np.argsort(heights)
    bottom, top = gap / 2, 1 - gap / 2
    placed = np.clip(np.asarray(heights, dtype=float)[order], bottom, top)
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    if len(placed) and placed[-1] > top:  # pushed past the top: push down from there instead
        placed[-1] = top
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    result = np.empty_like(placed)
    result[order] = placed
    return result.tolist()
