"""Chart rendering assembled from configuration, for the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from prometheus_client import CollectorRegistry

from bot.config import Settings
from bot.telegram.chart_messages import ChartSetup
from charts import ChartCache, ChartRenderer, Theme


@asynccontextmanager
async def open_charts(settings: Settings, registry: CollectorRegistry) -> AsyncIterator[ChartSetup]:
    """The renderer, its cache and its metrics (on the desk's registry); its worker processes are closed
    when the block ends. They start with the first chart: a desk that never draws one never pays for them."""
    charts = settings.charts
    cache = ChartCache(ttl_seconds=charts.cache_ttl_seconds, max_entries=charts.cache_max_entries)
    renderer = ChartRenderer(
        cache=cache, registry=registry, workers=charts.workers, max_pending=charts.max_pending,
        timeout_seconds=charts.render_timeout_seconds, prestart=False,
    )  # fmt: skip
    async with renderer:
        yield ChartSetup(
            renderer,
            Theme(charts.theme),
            candle_timeframe=timedelta(minutes=settings.quotes.bar_minutes),
            drawdown_cap_percent=settings.risk.max_drawdown_percent,
            currency=settings.broker.currency,
        )
