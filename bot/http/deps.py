"""What the HTTP side needs, handed in by the composition root under one typed AppKey."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry

from bot.http.metrics import IngestMetrics
from core.auth_watch import AuthFailureWatch
from core.clock import Clock
from core.ingest import SignalIngestService
from core.ports import SignalStore
from core.producer_auth import ProducerAuthenticator
from core.quote_intake import QuoteIntake
from core.rate_limit import ProducerRateLimiter
from core.tradingview import TradingViewIntake


@dataclass(frozen=True)
class HttpDeps:
    ingest: SignalIngestService
    store: SignalStore
    authenticator: ProducerAuthenticator
    rate_limiter: ProducerRateLimiter
    clock: Clock
    registry: CollectorRegistry
    metrics: IngestMetrics
    max_body_bytes: int
    tradingview: TradingViewIntake | None = None  # None: the TradingView endpoint answers 404
    quotes: QuoteIntake | None = None  # None: POST /api/v1/quotes answers 404
    max_quotes_per_request: int = 500
    auth_failures: AuthFailureWatch | None = None  # told of every 401, to alert ops on a burst


DEPS = web.AppKey("deps", HttpDeps)
