"""401 for every way a request can fail to prove who sent it, and when."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.support import OTHER_SECRET, SECRET, SignedHeaders, encode, rfc3339, signal_body


@pytest.mark.parametrize("header", ["X-Producer-Id", "X-Timestamp", "X-Signature"])
async def test_missing_header_is_named(api: Api, header: str) -> None:
    raw = encode(signal_body())
    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    del headers[header]
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers) as r:
        problem = await r.json(content_type=None)
        assert r.status == 401 and r.content_type == "application/problem+json"
    assert problem["detail"] == f"missing {header} header"


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"X-Signature": "not base64 at all ∑"}, "signature does not match"),
        ({"X-Signature": "AAAA"}, "signature does not match"),
        ({"X-Timestamp": "yesterday"}, "X-Timestamp must be RFC 3339"),
        ({"X-Timestamp": "2026-11-23T10:00:00"}, "X-Timestamp must be RFC 3339"),
    ],
)
async def test_garbled_headers_are_refused(api: Api, override: dict[str, str], expected: str) -> None:
    raw = encode(signal_body())
    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    headers.update(override)
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw, headers=headers) as r:
        assert r.status == 401
        assert expected in (await r.json(content_type=None))["detail"]


async def test_wrong_secret_is_refused(api: Api) -> None:
    status, _, problem = await api.post_signal(signal_body(), signer=SignedHeaders(secret="a-wrong-secret-123456"))
    assert status == 401 and problem["type"] == "/problems/bad-signature"


async def test_another_producers_secret_is_refused(api: Api) -> None:
    status, _, _ = await api.post_signal(signal_body(), signer=SignedHeaders(secret=OTHER_SECRET))
    assert status == 401


async def test_unknown_producer_is_refused(api: Api) -> None:
    status, _, problem = await api.post_signal(signal_body(), signer=SignedHeaders(producer_id="mallory", secret=SECRET))
    assert status == 401 and "unknown producer 'mallory'" in problem["detail"]


async def test_tampered_body_is_refused(api: Api) -> None:
    raw = encode(signal_body())
    headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(api.clock.now()))
    async with api.session.post(api.base_url + "/api/v1/signals", data=raw.replace(b"2420", b"2520"), headers=headers) as r:
        assert r.status == 401


async def test_signature_covers_the_query_string(api: Api) -> None:
    timestamp = rfc3339(api.clock.now())
    headers = SignedHeaders().build("GET", "/api/v1/signals?limit=5", b"", timestamp)
    async with api.session.get(api.base_url + "/api/v1/signals?limit=6", headers=headers) as r:
        assert r.status == 401


@pytest.mark.parametrize("offset, accepted", [(-301, False), (301, False), (-300, True), (300, True)])
async def test_timestamp_freshness_is_three_hundred_seconds_either_way(api: Api, offset: int, accepted: bool) -> None:
    from datetime import timedelta

    stamp = rfc3339(api.clock.now() + timedelta(seconds=offset))
    status, _, body = await api.post_signal(signal_body(), timestamp=stamp)
    assert status == (201 if accepted else 401)
    if not accepted:
        assert f"{abs(offset)} s {'ahead of' if offset > 0 else 'behind'} server time" in body["detail"]
