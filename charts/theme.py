"""Dark and light colour palettes; artists get their colours from here, never from global rcParams."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Theme(Enum):
    DARK = "dark"
    LIGHT = "light"


@dataclass(frozen=True, slots=True)
class Palette:
    background: str
    text: str
    muted: str
    grid: str
    up: str
    down: str
    entry: str
    line: str
    cap: str
    averages: tuple[str, str, str]


_PALETTES = {
    Theme.DARK: Palette(
        background="#131722",
        text="#e0e3eb",
        muted="#9598a1",
        grid="#2a2e39",
        up="#26a69a",
        down="#ef5350",
        entry="#5c9dff",
        line="#42a5f5",
        cap="#ffb74d",
        averages=("#f6c85f", "#b388ff", "#f48fb1"),
    ),
    Theme.LIGHT: Palette(
        background="#ffffff",
        text="#131722",
        muted="#5d606b",
        grid="#e0e3eb",
        up="#089981",
        down="#f23645",
        entry="#2962ff",
        line="#1565c0",
        cap="#ef6c00",
        averages=("#e69f00", "#7e57c2", "#d81b60"),
    ),
}


def palette_for(theme: Theme) -> Palette:
    return _PALETTES[theme]
