"""The one entry point from a chart description to PNG bytes; a plain function, safe in any thread or process."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from charts.candles import render_candles
from charts.equity import render_equity
from charts.model import Candle, CandlestickChart, ChartSpec, EquityChart, EquityPoint, PnlChart, RenderedChart
from charts.pnl import render_pnl
from charts.theme import Theme, palette_for


def render_chart(spec: ChartSpec, theme: Theme = Theme.DARK) -> RenderedChart:
    """Draw `spec`; raises NotEnoughData (a ChartError) when nothing in it can be drawn."""
    palette = palette_for(theme)
    match spec:
        case CandlestickChart():
            return render_candles(spec, palette)
        case EquityChart():
            return render_equity(spec, palette)
        case PnlChart():
            return render_pnl(spec, palette)
    raise TypeError(f"not a chart description: {type(spec).__name__}")


def warm_up() -> None:
    """Draw one tiny chart of each kind so fonts and caches are loaded before the first real render, then
    freeze what is loaded: the collector's full passes skip matplotlib's long-lived objects from then on.
    Without that, every few renders one paid 30-45 ms for a pass over them."""
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    for spec in (
        CandlestickChart("WARM", "H1", (Candle(moment, 1.0, 2.0, 0.5, 1.5),)),
        EquityChart("warm", (EquityPoint(moment, 1.0),)),
        PnlChart("warm", (1.0,)),
    ):
        render_chart(spec)
    gc.freeze()
