"""Charts as PNG bytes from plain data: candlesticks with a signal's levels, equity with drawdown, PnL.

Pure rendering: `render_chart(spec, theme)` in any thread or process. Async callers use ChartRenderer,
which renders in worker processes with a timeout, a cache and Telegram file_id reuse.

matplotlib is imported only where charts are drawn (render_chart, the worker processes): the bot's own
process describes and caches charts without paying its start-up time and memory.
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


def __getattr__(name: str) -> object:
    if name == "render_chart":  # imports matplotlib
        from charts.render import render_chart

        return render_chart
    raise AttributeError(f"module 'charts' has no attribute {name!r}")
