"""The producer API as an aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.http import health, openapi, quotes, signals, tradingview
from bot.http.deps import DEPS, HttpDeps
from bot.http.problems import HttpProblem, problem_response, translate
from bot.http.request_ids import request_ids
from core.errors import AuthenticationFailed, SignalDeskError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_http_app(deps: HttpDeps) -> web.Application:
    app = web.Application(middlewares=[request_ids, _problems_middleware])  # ids first: on every line and answer
    app[DEPS] = deps
    app.router.add_post("/api/v1/signals", signals.post_signal)
    app.router.add_get("/api/v1/signals", signals.list_signals)
    app.router.add_get("/api/v1/signals/{signal_id}", signals.get_signal)
    app.router.add_post("/api/v1/tradingview/{producer_id}", tradingview.post_alert)
    app.router.add_post("/api/v1/quotes", quotes.post_quotes)
    app.router.add_get("/api/v1/openapi.json", openapi.serve)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    return app


@web.middleware
async def _problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal leaves as problem+json; nothing a client sends can produce a traceback."""
    try:
        return await handler(request)
    except (SignalDeskError, HttpProblem) as error:
        reason, response = translate(error)
        if isinstance(error, AuthenticationFailed):
            await _tell_auth_watch(request, reason)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reason = "not_found" if exc.status == 404 else "http_error"
        detail = f"no route for {request.method} {request.path[:200]}" if exc.status in (404, 405) else exc.reason
        response = problem_response(exc.status, reason.replace("_", "-"), exc.reason, detail)
    except Exception:
        log.exception("event=unhandled_error method=%s path=%s", request.method, request.path[:200])
        reason, response = "internal", problem_response(500, "internal", "Internal error", "unexpected error; it was logged")
    if request.path.startswith(("/api/v1/signals", "/api/v1/tradingview/")):
        request.app[DEPS].metrics.rejected.labels(reason).inc()
    log.info("event=request_refused method=%s path=%s status=%d reason=%s", request.method, request.path[:200], response.status, reason)
    return response


async def _tell_auth_watch(request: web.Request, reason: str) -> None:
    watch = request.app[DEPS].auth_failures
    if watch is not None:
        # The id the request claimed: a header on the signed API, the path on TradingView's.
        await watch.failed(request.headers.get("X-Producer-Id") or request.match_info.get("producer_id"), reason)
