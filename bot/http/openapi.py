"""The OpenAPI 3.1 description of the producer API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import bot
from core.quotes import QuoteProblem

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_SIGNED_HEADERS = [
    {"name": "X-Producer-Id", "in": "header", "required": True, "schema": {"type": "string"}},
    {"name": "X-Timestamp", "in": "header", "required": True, "schema": {"type": "string", "format": "date-time"},
     "description": "RFC 3339 UTC; must be within ±max_clock_skew_seconds of server time"},
    {"name": "X-Signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "base64(HMAC-SHA256(secret, canonical request)); see the README"},
]
_PRICE = {
    "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1e10,
    "description": "At most 10 decimal places (money is stored exactly); more is refused with 422.",
}
_TIME = {"type": "string", "format": "date-time"}
_ERRORS = {str(code): _PROBLEM for code in (401, 404, 429, 503)}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "SignalDesk producer API",
        "version": "1",
        "description": "Signed signal ingest and price push. Every signed request carries X-Producer-Id, X-Timestamp and X-Signature.",
    },
    "paths": {
        "/api/v1/signals": {
            "post": {
                "summary": "Submit a signal",
                "parameters": [
                    *_SIGNED_HEADERS,
                    {"name": "X-Idempotency-Key", "in": "header", "required": False,
                     "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignalIn"}}}},
                "responses": {
                    "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Signal"}}},
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "200": {"description": "Idempotent replay: the original signal",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Signal"}}}},
                    **{str(code): _PROBLEM for code in (400, 409, 413, 415, 422)},
                    **_ERRORS,
                },
            },
            "get": {
                "summary": "List this producer's signals, newest first",
                "parameters": [
                    *_SIGNED_HEADERS,
                    {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
                    {"name": "instrument", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignalPage"}}}},
                    "422": _PROBLEM,
                    **_ERRORS,
                },
            },
        },
        "/api/v1/signals/{signal_id}": {
            "get": {
                "summary": "One of this producer's signals",
                "parameters": [*_SIGNED_HEADERS, {"name": "signal_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The signal", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Signal"}}}},
                    **_ERRORS,
                },
            }
        },
        "/api/v1/tradingview/{producer_id}": {
            "post": {
                "summary": "Submit a TradingView alert (unsigned; token in the body)",
                "description": "The alert message as TradingView sends it: a JSON object, or text with one key=value "
                               "per line. It is checked (address allowlist, token, {{timenow}} freshness) and becomes "
                               "the same signal POST /api/v1/signals creates, with external_id "
                               "tv:<instrument>:<side>:<bar time>, so a re-fired alert is 409. See docs/producers.md.",
                "parameters": [{"name": "producer_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/TradingViewAlert"}},
                    "text/plain": {"schema": {"type": "string"}, "example": "token=...\nticker={{exchange}}:{{ticker}}\n"
                                   "action={{strategy.order.action}}\nposition={{strategy.market_position}}\n"
                                   "price={{close}}\nstop={{plot_0}}\ntarget={{plot_1}}\ntime={{time}}\ntimenow={{timenow}}"},
                }},
                "responses": {
                    "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Signal"}}},
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    **{str(code): _PROBLEM for code in (400, 401, 403, 409, 413, 415, 422, 429, 503)},
                },
            }
        },
        "/api/v1/quotes": {
            "post": {
                "summary": "Push quotes (prices) for the paper broker, execution checks and charts",
                "description": "Signed like POST /api/v1/signals; any configured producer may push. Up to "
                               "quotes.max_per_request quotes (default 500) and 1024 + 256 bytes per quote. A body of "
                               "the wrong shape is refused whole (422, each bad field named with its index, e.g. "
                               "quotes[3].bid). Otherwise each quote is judged in order against the last accepted one "
                               "of its instrument and the answer is 202 with a result per quote: accepted, or refused "
                               "with a problem (not_finite, non_positive, crossed, future, out_of_order, duplicate, "
                               "jump) and a detail. Refused quotes are never stored or traded on; ops are alerted.",
                "parameters": _SIGNED_HEADERS,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuotesIn"}}}},
                "responses": {
                    "202": {"description": "Judged; a result per quote, in request order",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuoteResults"}}}},
                    **{str(code): _PROBLEM for code in (400, 401, 413, 415, 422, 503)},
                },
            }
        },
        "/healthz": {"get": {"summary": "Process alive", "responses": {"200": {"description": "alive"}}}},
        "/readyz": {"get": {"summary": "Database reachable", "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format"}}}},
    },
    "components": {
        "schemas": {
            "Status": {"type": "string", "enum": ["new", "approved", "rejected", "expired", "executed", "cancelled", "closed"]},
            "SignalIn": {
                "type": "object",
                "additionalProperties": False,
                "required": ["instrument", "side", "price", "stop_loss", "take_profit", "time"],
                "properties": {
                    "instrument": {"type": "string", "pattern": "^[A-Z0-9._-]{2,20}$"},
                    "side": {"oneOf": [{"type": "string", "enum": ["buy", "sell"]}, {"type": "integer", "enum": [0, 1]}]},
                    "price": _PRICE,
                    "stop_loss": _PRICE,
                    "take_profit": _PRICE,
                    "time": _TIME,
                    "external_id": {"type": "string", "minLength": 1, "maxLength": 128},
                    "version": {"type": "integer", "minimum": 1, "default": 1},
                    "payload": {"type": "object"},
                },
            },
            "TradingViewAlert": {
                "type": "object",
                "additionalProperties": False,
                "required": ["token", "ticker", "action", "price", "time", "timenow"],
                "description": "Numbers may be JSON numbers or strings. Give exactly one of stop / stop_points and "
                               "one of target / target_points (points: a distance in the instrument's points).",
                "properties": {
                    "token": {"type": "string", "description": "the producer's alert token (never echoed)"},
                    "ticker": {"type": "string", "examples": ["OANDA:XAUUSD"]},
                    "action": {"type": "string", "enum": ["buy", "sell", "long", "short"]},
                    "position": {"type": "string", "enum": ["long", "short", "flat"],
                                 "description": "{{strategy.market_position}}; an order that does not leave the "
                                                "position on its own side is an exit and is refused (422)"},
                    **{name: {"type": ["number", "string"]} for name in ("price", "stop", "stop_points", "target", "target_points")},
                    "time": {**_TIME, "description": "bar time, {{time}}"},
                    "timenow": {**_TIME, "description": "fire time, {{timenow}}"},
                    "interval": {"type": ["string", "number"]},
                    "comment": {"type": "string", "maxLength": 256},
                },
            },
            "Signal": {
                "type": "object",
                "required": ["id", "producer_id", "status", "instrument", "side", "price", "stop_loss", "take_profit",
                             "time", "version", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string"},
                    "producer_id": {"type": "string"},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "instrument": {"type": "string"},
                    "side": {"type": "string", "enum": ["buy", "sell"]},
                    "price": {"type": "number"},
                    "stop_loss": {"type": "number"},
                    "take_profit": {"type": "number"},
                    "time": _TIME,
                    "version": {"type": "integer"},
                    "external_id": {"type": ["string", "null"]},
                    "payload": {"type": ["object", "null"]},
                    "created_at": _TIME,
                    "updated_at": _TIME,
                },
            },
            "SignalPage": {
                "type": "object",
                "required": ["signals", "next_cursor"],
                "properties": {
                    "signals": {"type": "array", "items": {"$ref": "#/components/schemas/Signal"}},
                    "next_cursor": {"type": ["string", "null"]},
                },
            },
            "QuotesIn": {
                "type": "object",
                "additionalProperties": False,
                "required": ["quotes"],
                "properties": {"quotes": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["instrument", "bid", "ask", "time"],
                    "properties": {
                        "instrument": {"type": "string", "pattern": "^[A-Z0-9._-]{2,20}$"},
                        "bid": {"type": "number", "exclusiveMaximum": 1e10},
                        "ask": {"type": "number", "exclusiveMaximum": 1e10},
                        "time": _TIME,
                    },
                }}},
            },
            "QuoteResults": {
                "type": "object",
                "required": ["accepted", "refused", "results"],
                "properties": {
                    "accepted": {"type": "integer"},
                    "refused": {"type": "integer"},
                    "results": {"type": "array", "items": {
                        "type": "object",
                        "required": ["instrument", "status"],
                        "properties": {
                            "instrument": {"type": "string"},
                            "status": {"type": "string", "enum": ["accepted", "refused"]},
                            "problem": {"type": "string", "enum": [problem.value for problem in QuoteProblem]},
                            "detail": {"type": "string"},
                        },
                    }},
                },
            },
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "reason"],
                               "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
                    "existing_signal_id": {"type": "string"},
                },
            },
        },
        "responses": {
            "Problem": {"description": "RFC 9457 problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        },
    },
}


async def serve(request: web.Request) -> web.Response:
    return web.json_response({**SPEC, "info": {**SPEC["info"], "x-signaldesk-version": bot.__version__}})
