"""Everything a client can send gets a precise 4xx problem+json — never a 500, never a half-written row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.support import DROP, SignedHeaders, encode, rfc3339, signal_body

LIMIT = 32768


async def _post_raw(api: Api, raw: bytes, content_type: str = "application/json", **session_kwargs: Any) -> tuple[int, Any]:
    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    headers["Content-Type"] = content_type
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers, **session_kwargs) as r:
        body = await r.json(content_type=None)
        assert r.content_type == "application/problem+json" or r.status < 300
        return r.status, body


async def _stored(api: Api) -> int:
    _, _, page = await api.request("GET", "/api/v1/signals?limit=200")
    return len(page["signals"])


def _padded(size: int) -> bytes:
    base = encode(signal_body(payload={"pad": ""}))
    return base.replace(b'"pad": ""', b'"pad": "' + b"x" * (size - len(base)) + b'"')


async def test_body_at_the_limit_is_accepted_and_one_byte_more_is_413(api: Api) -> None:
    assert len(_padded(LIMIT)) == LIMIT
    assert (await _post_raw(api, _padded(LIMIT)))[0] == 201
    status, problem = await _post_raw(api, _padded(LIMIT + 1))
    assert status == 413 and "Content-Length 32769 exceeds the limit of 32768 bytes" in problem["detail"]


async def test_oversized_body_without_content_length_is_refused_while_streaming(api: Api) -> None:
    raw = _padded(LIMIT + 1)

    async def chunks():  # a generator body is sent chunked, with no Content-Length
        for i in range(0, len(raw), 4096):
            yield raw[i : i + 4096]

    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    async with api.session.post(api.base_url + "/api/v1/signals", data=chunks(), headers=headers) as r:
        assert r.status == 413
        assert "the body streamed so far exceeds" in (await r.json(content_type=None))["detail"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"{not json", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object, got array"),
        (b'"text"', "body must be a JSON object, got string"),
        (b"[" * 20000, "body is not valid JSON"),
    ],
    ids=["garbled", "empty", "not-utf8", "array", "string", "deeply-nested"],
)
async def test_body_that_is_not_a_json_object_is_400(api: Api, raw: bytes, expected: str) -> None:
    status, problem = await _post_raw(api, raw)
    assert status == 400 and expected in problem["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_wrong_content_type_is_415(api: Api, content_type: str) -> None:
    status, problem = await _post_raw(api, encode(signal_body()), content_type)
    assert status == 415 and content_type in problem["detail"]


FIELD_CASES = [
    ({"colour": "red"}, "colour", "unknown field"),
    ({"instrument": DROP}, "instrument", "is required"),
    ({"instrument": "xauusd"}, "instrument", "must match"),
    ({"instrument": "X"}, "instrument", "must match"),
    ({"instrument": "ÄÖÜUSD"}, "instrument", "must match"),
    ({"instrument": "XAU\u0000USD"}, "instrument", "must match"),
    ({"instrument": 7}, "instrument", "must match"),
    ({"side": "long"}, "side", 'must be "buy" or "sell"'),
    ({"side": 2}, "side", 'must be "buy" or "sell"'),
    ({"side": True}, "side", 'must be "buy" or "sell"'),
    ({"side": DROP}, "side", "is required"),
    ({"price": DROP}, "price", "is required"),
    ({"price": "2400"}, "price", "must be a number, got string"),
    ({"price": 0}, "price", "greater than 0"),
    ({"price": -1}, "price", "greater than 0"),
    ({"price": 1e300}, "price", "less than"),
    ({"price": 2400.123456789012}, "price", "decimal places"),
    ({"stop_loss": 2401}, "stop_loss", "must be below the entry price for a buy"),
    ({"take_profit": 2399}, "take_profit", "must be above the entry price for a buy"),
    ({"side": "sell"}, "stop_loss", "must be above the entry price for a sell"),
    ({"time": DROP}, "time", "is required"),
    ({"time": "23/11/2026"}, "time", "RFC 3339"),
    ({"time": 1732356000}, "time", "RFC 3339"),
    ({"time": "2026-11-23T10:05:01Z"}, "time", "301 s in the future"),
    ({"time": "0001-01-01T01:00:00+03:04"}, "time", "RFC 3339"),  # before the first representable moment (found by fuzzing)
    ({"version": 0}, "version", "at least 1"),
    ({"version": 1.5}, "version", "whole number"),
    ({"version": "1"}, "version", "whole number"),
    ({"external_id": ""}, "external_id", "1 to 128"),
    ({"external_id": "x" * 129}, "external_id", "1 to 128"),
    ({"payload": [1]}, "payload", "must be a JSON object, got array"),
    ({"stop_loss": 2400.46}, "stop_loss", "needs at least 5 points"),
    ({"take_profit": 2410}, "take_profit", "reward:risk is 0.90; at least 1.5"),
]


@pytest.mark.parametrize("override, field, reason", FIELD_CASES, ids=[f"{c[1]}:{c[2]}"[:40] for c in FIELD_CASES])
async def test_every_field_rule_is_a_422_naming_the_field(api: Api, override: dict[str, Any], field: str, reason: str) -> None:
    status, _, problem = await api.post_signal(signal_body(**override))
    assert status == 422
    assert problem["type"] == "/problems/invalid-signal"
    assert any(e["field"] == field and reason in e["reason"] for e in problem["errors"]), problem["errors"]
    assert await _stored(api) == 0


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999999", b"9" * 5000])
async def test_non_finite_and_huge_numbers_are_422_not_500(api: Api, literal: bytes) -> None:
    raw = encode(signal_body(price=123456)).replace(b"123456", literal)
    status, problem = await _post_raw(api, raw)
    assert status == 422
    assert problem["errors"][0]["field"] == "price"


async def test_nan_inside_payload_is_refused(api: Api) -> None:
    raw = encode(signal_body(payload={"rsi": 123456})).replace(b"123456", b"NaN")
    status, problem = await _post_raw(api, raw)
    assert status == 422 and problem["errors"][0]["field"] == "payload"


async def test_several_problems_are_all_reported(api: Api) -> None:
    status, _, problem = await api.post_signal(signal_body(instrument="bad", side="up", price=-5))
    assert status == 422
    assert {e["field"] for e in problem["errors"]} == {"instrument", "side", "price"}


async def test_stop_distance_is_measured_in_the_instruments_points(api: Api) -> None:
    # EURUSD's point is 0.00001: a 10-point (1 pip) stop is fine; gold's 0.01 point makes 0.04 too close.
    eurusd = signal_body(instrument="EURUSD", price=1.07200, stop_loss=1.07190, take_profit=1.07300)
    assert (await api.post_signal(eurusd))[0] == 201
    gold = signal_body(stop_loss=2400.46, take_profit=2401)
    status, _, problem = await api.post_signal(gold)
    assert status == 422 and "4.0 points from entry; XAUUSD needs at least 5 points" in problem["detail"]


async def test_bad_idempotency_key_is_400(api: Api) -> None:
    status, _, problem = await api.post_signal(signal_body(), headers={"X-Idempotency-Key": "x" * 129})
    assert status == 400 and "X-Idempotency-Key" in problem["detail"]


async def test_unknown_path_and_wrong_method_are_problems(api: Api) -> None:
    async with api.session.get(api.base_url + "/api/v2/nothing") as r:
        assert r.status == 404 and r.content_type == "application/problem+json"
    async with api.session.delete(api.base_url + "/api/v1/signals") as r:
        assert r.status == 405 and r.content_type == "application/problem+json"
