"""Prometheus metrics of the producer API, registered on a registry the composition root owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily

from core.quote_intake import QuoteIntake


class _Labelled:
    """A labelled metric whose children are looked up once: every accepted signal counts itself, and
    `labels()` (validation, a lock, a dict) costs more than the increment."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def labels(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.ingested = _Labelled(
            Counter("signaldesk_signals_ingested", "Signals accepted and stored", ["instrument", "side"], registry=registry)
        )
        self.rejected = _Labelled(
            Counter("signaldesk_signals_rejected", "Signal requests refused", ["reason"], registry=registry)
        )
        self.ingest_seconds = Histogram(
            "signaldesk_signal_ingest_seconds",
            "Time from request to committed signal",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )


class QuoteCounts:
    """`signaldesk_quotes_total{outcome, problem}` read from the QuoteIntake, which counts every quote from
    every source (pushed or replayed) once."""

    def __init__(self, intake: QuoteIntake) -> None:
        self._intake = intake

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("signaldesk_quotes", "Quotes judged by the quote guard", labels=["outcome", "problem"])
        for problem, count in self._intake.counts().items():
            family.add_metric(["accepted", ""] if problem is None else ["refused", problem.value], count)
        yield family
