"""Oversized, malformed and wrongly typed alerts get the signed API's statuses; nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.tradingview.tv_alerts import (
    TOKEN,
    alert_fields,
    json_message,
    post_raw,
    send_like_tradingview,
    text_message,
    tv_settings,
)

LIMIT = 32768


async def _stored(api: Api) -> int:
    _, _, page = await api.request("GET", "/api/v1/signals?limit=200")
    return len(page["signals"])


def _padded_text(api: Api, size: int) -> bytes:
    base = text_message(alert_fields(api, comment="")).encode()
    return base + b"x" * (size - len(base))


async def test_body_over_the_limit_is_413(tv_api: Api) -> None:
    status, _, problem = await send_like_tradingview(tv_api, _padded_text(tv_api, LIMIT + 1))
    assert status == 413 and problem["type"] == "/problems/payload-too-large"
    assert "Content-Length 32769 exceeds the limit of 32768 bytes" in problem["detail"]


async def test_oversized_body_streamed_without_length_is_413(tv_api: Api) -> None:
    raw = _padded_text(tv_api, 100_000)

    async def chunks():
        for i in range(0, len(raw), 4096):
            yield raw[i : i + 4096]

    status, _, problem = await post_raw(tv_api, chunks(), "text/plain; charset=utf-8")
    assert status == 413 and "the body streamed so far exceeds" in problem["detail"]
    assert await _stored(tv_api) == 0


@pytest.mark.parametrize(
    "raw, content_type, detail",
    [
        (b'{"token": "abc", "ticker": ', "text/plain; charset=utf-8", "body is not valid JSON"),
        (b'{"price": {{close}}}', "text/plain; charset=utf-8", "body is not valid JSON"),
        (b"[1, 2]", "application/json", "body must be a JSON object, got array"),
        (b"not json", "application/json", "body is not valid JSON"),
        (b"", "text/plain", "body is empty"),
        (b"\n# only a comment\n", "text/plain", "body is empty"),
        (b"ticker=OANDA:XAUUSD\nbuy XAUUSD now", "text/plain", "line 2 is not key=value"),
        (b"=value", "text/plain", "line 1 is not key=value"),
        (b"ticker=A\nTicker=B", "text/plain", "line 2: ticker is given twice"),
        (b"\xff\xfe\x00", "text/plain", "body is neither JSON nor UTF-8 text"),
    ],
)
async def test_malformed_body_is_400(tv_api: Api, raw: bytes, content_type: str, detail: str) -> None:
    status, _, problem = await post_raw(tv_api, raw, content_type)
    assert status == 400 and problem["type"] == "/problems/malformed-body"
    assert problem["detail"].startswith(detail)


async def test_malformed_line_is_not_echoed(tv_api: Api) -> None:
    status, _, problem = await send_like_tradingview(tv_api, f"ticker=OANDA:XAUUSD\n{TOKEN}")  # post_raw checks the echo
    assert status == 400 and problem["detail"].startswith("line 2 is not key=value")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/html", None])
async def test_other_content_types_are_415(tv_api: Api, content_type: str | None) -> None:
    status, _, problem = await post_raw(tv_api, text_message(alert_fields(tv_api)).encode(), content_type)
    assert status == 415 and "application/json or text/plain" in problem["detail"]


@pytest.mark.parametrize(
    "overrides, field, reason",
    [
        ({"ticker": "NYSE:AAPL"}, "ticker", "unknown ticker 'NYSE:AAPL'"),
        ({"ticker": "BINANCE:BTCUSDT.P"}, "ticker", "unknown ticker 'BINANCE:BTCUSDT.P'"),
        ({"ticker": "COMEX:GC1!"}, "ticker", "unknown ticker"),
        ({"ticker": "{{ticker}}"}, "ticker", "still holds the placeholder"),
        ({"action": "hold"}, "action", 'must be "buy" or "sell"'),
        ({"action": "{{strategy.order.action}}"}, "action", "still holds the placeholder"),
        ({"price": "abc"}, "price", "must be a number"),
        ({"price": "-1"}, "price", "must be a number"),
        ({"price": "0"}, "price", "must be greater than 0"),
        ({"stop": "NaN"}, "stop", "is NaN: the plot has no value on this bar"),
        ({"stop": "{{plot_0}}"}, "stop", "still holds the placeholder '{{plot_0}}'"),
        ({"stop": None}, "stop", "give exactly one of stop"),
        ({"stop_points": "100"}, "stop", "give exactly one of stop"),
        ({"target_points": "0"}, "target", "give exactly one of target"),
        ({"time": "yesterday"}, "time", "must be the bar time"),
        ({"time": None}, "time", "is required"),
        ({"position": "sideways"}, "position", 'must be "long", "short" or "flat"'),
        ({"strategy": "x"}, "strategy", "unknown field"),
        ({"comment": "x" * 300}, "comment", "must be text of at most 256 characters"),
        ({"stop": "2405"}, "stop_loss", "must be below the entry price for a buy"),
        ({"time": "2026-11-23T11:00:00Z"}, "time", "is 3600 s in the future"),
    ],
)
async def test_field_problems_are_422(tv_api: Api, overrides: dict[str, Any], field: str, reason: str) -> None:
    status, _, problem = await send_like_tradingview(tv_api, text_message(alert_fields(tv_api, **overrides)))
    assert status == 422 and problem["type"] == "/problems/invalid-signal", problem
    assert any(e["field"] == field and e["reason"].startswith(reason) for e in problem["errors"]), problem["errors"]
    assert await _stored(tv_api) == 0


async def test_unknown_ticker_names_the_config_fix(tv_api: Api) -> None:
    fields = alert_fields(tv_api, ticker="BINANCE:BTCUSDT.P")
    _, _, problem = await send_like_tradingview(tv_api, json_message(fields))
    assert '"BINANCE:BTCUSDT.P" = "<INSTRUMENT>"' in problem["errors"][0]["reason"]


async def test_json_values_of_the_wrong_type_are_422(tv_api: Api) -> None:
    fields = alert_fields(tv_api, price=None, ticker=["OANDA:XAUUSD"])
    message = json_message(fields)[:-2] + ', "price": null, "interval": true}'
    status, _, problem = await send_like_tradingview(tv_api, message)
    assert status == 422
    assert {e["field"] for e in problem["errors"]} >= {"ticker", "price", "interval"}


async def test_rate_limit_is_429_with_retry_after(api_factory: Any, database_url: str) -> None:
    api = await api_factory(tv_settings(database_url, signals={"rate_per_second": 1, "rate_burst": 1}))
    assert (await send_like_tradingview(api, text_message(alert_fields(api))))[0] == 201
    fields = alert_fields(api, time="2026-11-23T09:00:00Z")
    status, headers, problem = await send_like_tradingview(api, text_message(fields))
    assert status == 429 and headers["Retry-After"] == "1" and problem["type"] == "/problems/rate-limited"


async def test_endpoint_answers_only_post(tv_api: Api) -> None:
    async with tv_api.session.get(f"{tv_api.base_url}/api/v1/tradingview/alpha") as r:
        assert r.status == 405 and r.content_type == "application/problem+json"
