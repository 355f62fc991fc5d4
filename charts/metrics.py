"""Prometheus metrics of chart rendering, registered on the registry the caller passes in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ChartMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rendered = Counter(
            "signaldesk_charts_rendered",
            "Charts rendered (not served from the cache), by kind.",
            ["kind"],
            registry=registry,
        )
        self.cache_hits = Counter(
            "signaldesk_chart_cache_hits",
            "Chart requests answered without a render of their own: from the cache or a render in flight.",
            registry=registry,
        )
        self.render_seconds = Histogram(
            "signaldesk_chart_render_seconds",
            "Time to render one chart in the worker pool, by kind.",
            ["kind"],
            buckets=(0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self.dropped = Counter(
            "signaldesk_chart_renders_dropped",
            "Chart requests answered with no chart, by reason (queue_full, timeout, error).",
            ["reason"],
            registry=registry,
        )
