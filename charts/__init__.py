"""Charts as PNG bytes from plain data: candlesticks with a signal's levels, equity with drawdown, PnL.

Pure rendering: `render_chart(spec, theme)` in any thread or process. Async callers use ChartRenderer,
which renders in worker processes with a timeout, a cache and Telegram file_id reuse.
"""

from charts.cache import ChartCache
from charts.errors import ChartError, NotEnoughData
from charts.key import chart_key
from charts.model import (
    Candle,
    CandlestickChart,
    ChartSpec,
    EquityChart,
    EquityPoint,
    LevelSet,
    PnlChart,
    Price,
    RenderedChart,
)
from charts.render import render_chart
from charts.renderer import ChartPhoto, ChartRenderer
from charts.theme import Theme

__all__ = [
    "Candle",
    "CandlestickChart",
    "ChartCache",
    "ChartError",
    "ChartPhoto",
    "ChartRenderer",
    "ChartSpec",
    "EquityChart",
    "EquityPoint",
    "LevelSet",
    "NotEnoughData",
    "PnlChart",
    "Price",
    "RenderedChart",
    "Theme",
    "chart_key",
    "render_chart",
]
