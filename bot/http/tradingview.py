"""POST /api/v1/tradingview/{producer_id}: a TradingView alert becomes a signal through the same ingest
service as the signed API. The order of checks is the order of cost: address, media type, size, then
the body (token, freshness, fields)."""

from __future__ import annotations

from aiohttp import web

from bot.http.deps import DEPS
from bot.http.problems import HttpProblem
from bot.http.signals import signal_json
from bot.http.signed_request import read_bounded_body
from core.tradingview import read_alert

# TradingView sends application/json when the alert message is valid JSON, text/plain otherwise.
ACCEPTED_CONTENT_TYPES = ("application/json", "text/plain")


async def post_alert(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    intake = deps.tradingview
    if intake is None:
        raise web.HTTPNotFound()
    started = deps.clock.monotonic()
    refusal = intake.addresses.refusal(request.remote, request.headers.getall("X-Forwarded-For", []))
    if refusal:
        raise HttpProblem(403, "address-not-allowed", "Forbidden", refusal)
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        shown = request.headers.get("Content-Type", "none")[:100]
        raise HttpProblem(
            415, "unsupported-media-type", "Unsupported media type",
            f"Content-Type must be application/json or text/plain (as TradingView sends), got {shown}",
        )
    raw = await read_bounded_body(request, deps.max_body_bytes)
    alert = read_alert(raw, json_expected=request.content_type == "application/json")
    producer_id = request.match_info["producer_id"]
    intake.authenticator.authenticate(producer_id, alert, deps.clock.now())
    deps.rate_limiter.acquire(producer_id)
    result = await deps.ingest.submit(producer_id, intake.translator.translate(alert))
    signal = result.signal
    deps.metrics.ingested.labels(signal.instrument, signal.side.value).inc()
    deps.metrics.ingest_seconds.observe(deps.clock.monotonic() - started)
    return web.json_response(signal_json(signal), status=201, headers={"Location": f"/api/v1/signals/{signal.id}"})
