"""Prometheus metrics of the producer API, registered on a registry the composition root owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.ingested = Counter(
            "signaldesk_signals_ingested", "Signals accepted and stored", ["instrument", "side"], registry=registry
        )
        self.rejected = Counter("signaldesk_signals_rejected", "Signal requests refused", ["reason"], registry=registry)
        self.ingest_seconds = Histogram(
            "signaldesk_signal_ingest_seconds",
            "Time from request to committed signal",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
