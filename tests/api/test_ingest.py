"""POST /api/v1/signals: created, idempotent replay, duplicates — over real HTTP on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Api, make_settings
from tests.support import ROTATED_SECRET, SignedHeaders, encode, rfc3339, signal_body


async def test_signed_signal_is_created_stored_and_located(api: Api) -> None:
    status, headers, body = await api.post_signal(signal_body(external_id="tv-1", payload={"rsi": 71.2}))

    assert status == 201
    assert body["status"] == "new"
    assert (body["instrument"], body["side"], body["price"], body["stop_loss"], body["take_profit"]) == (
        "XAUUSD", "buy", 2400.5, 2390, 2420,
    )
    assert body["payload"] == {"rsi": 71.2} and body["external_id"] == "tv-1" and body["version"] == 1
    assert headers["Location"] == f"/api/v1/signals/{body['id']}"
    status, _, fetched = await api.request("GET", headers["Location"])
    assert status == 200 and fetched == body


async def test_side_may_be_given_as_zero_or_one(api: Api) -> None:
    status, _, body = await api.post_signal(
        signal_body(side=1, price=2400.5, stop_loss=2410, take_profit=2380)
    )
    assert status == 201 and body["side"] == "sell"


async def test_a_rotated_secret_is_accepted_beside_the_old_one(api: Api) -> None:
    status, _, _ = await api.post_signal(signal_body(), signer=SignedHeaders(secret=ROTATED_SECRET))
    assert status == 201


async def test_same_idempotency_key_and_body_returns_the_original_and_stores_nothing_new(api: Api) -> None:
    key = {"X-Idempotency-Key": "retry-123"}
    first_status, _, first = await api.post_signal(signal_body(), headers=key)
    api.clock.advance(2)  # a retry re-signs with a fresh timestamp
    again_status, _, again = await api.post_signal(signal_body(), headers=key)

    assert (first_status, again_status) == (201, 200)
    assert again == first
    _, _, page = await api.request("GET", "/api/v1/signals")
    assert [s["id"] for s in page["signals"]] == [first["id"]]


async def test_idempotency_key_reused_with_another_body_is_a_conflict(api: Api) -> None:
    key = {"X-Idempotency-Key": "retry-123"}
    _, _, first = await api.post_signal(signal_body(), headers=key)
    status, _, problem = await api.post_signal(signal_body(price=2401), headers=key)
    assert status == 409
    assert problem["existing_signal_id"] == first["id"] and "different body" in problem["detail"]


async def test_duplicate_external_id_is_refused_naming_the_existing_signal(api: Api) -> None:
    _, _, first = await api.post_signal(signal_body(external_id="tv-7"))
    api.clock.advance(600)  # well outside the dedup window: external ids never expire
    status, headers, problem = await api.post_signal(signal_body(external_id="tv-7", time=rfc3339(api.clock.now())))

    assert status == 409
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["existing_signal_id"] == first["id"]
    assert first["id"] in problem["detail"] and "external_id 'tv-7'" in problem["detail"]


async def test_same_instrument_time_version_within_the_window_is_a_duplicate_and_after_it_is_not(api: Api) -> None:
    _, _, first = await api.post_signal(signal_body())
    api.clock.advance(299)
    status, _, problem = await api.post_signal(signal_body())
    assert status == 409 and problem["existing_signal_id"] == first["id"]
    assert "dedup window" in problem["detail"]

    api.clock.advance(2)  # 301 s after the first: the window has passed
    status, _, second = await api.post_signal(signal_body())
    assert status == 201 and second["id"] != first["id"]


async def test_another_version_of_the_same_signal_is_not_a_duplicate(api: Api) -> None:
    assert (await api.post_signal(signal_body()))[0] == 201
    assert (await api.post_signal(signal_body(version=2)))[0] == 201


async def test_byte_identical_signed_request_replayed_is_refused(api: Api) -> None:
    raw = encode(signal_body(external_id=None) | {"external_id": "replay-1"})
    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers) as r:
        assert r.status == 201
        original = await r.json()
    api.clock.advance(400)  # past the dedup window but the signature is still the same bytes
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers) as r:
        # The timestamp is now 400 s old, so freshness refuses it first: a replay cannot outlive the skew.
        assert r.status == 401
    api.clock.advance(-400)
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers) as r:
        problem = await r.json()
        assert r.status == 409 and problem["existing_signal_id"] == original["id"]


async def test_fifty_concurrent_posts_with_one_external_id_create_exactly_one(api_factory: Any, database_url: str) -> None:
    api = await api_factory(make_settings(database_url, signals={"rate_per_second": 0}))

    async def post(i: int) -> int:
        body = signal_body(external_id="race-1", price=2400 + i / 100, version=i + 1)
        return (await api.post_signal(body))[0]

    statuses = await asyncio.gather(*(post(i) for i in range(50)))
    assert sorted(statuses) == [201] + [409] * 49
    _, _, page = await api.request("GET", "/api/v1/signals?limit=200")
    assert len(page["signals"]) == 1


async def test_ingest_metrics_count_accepted_and_refused(api: Api) -> None:
    await api.post_signal(signal_body())
    await api.post_signal(signal_body())  # duplicate
    async with api.session.get(api.base_url + "/metrics") as r:
        text = await r.text()
    assert 'signaldesk_signals_ingested_total{instrument="XAUUSD",side="buy"} 1.0' in text
    assert 'signaldesk_signals_rejected_total{reason="duplicate"} 1.0' in text
    assert "signaldesk_signal_ingest_seconds_count 1.0" in text
