"""429 with Retry-After once a producer exceeds its burst; other producers are unaffected."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_settings
from tests.support import OTHER_PRODUCER_ID, OTHER_SECRET, SignedHeaders, signal_body


async def test_burst_then_429_with_retry_after_then_refill(api_factory: Any, database_url: str) -> None:
    api = await api_factory(make_settings(database_url, signals={"rate_per_second": 2, "rate_burst": 3}))
    statuses = [(await api.post_signal(signal_body(version=i + 1)))[0] for i in range(4)]
    assert statuses == [201, 201, 201, 429]

    status, headers, problem = await api.post_signal(signal_body(version=9))
    assert status == 429 and headers["Retry-After"] == "1" and problem["type"] == "/problems/rate-limited"

    other = SignedHeaders(producer_id=OTHER_PRODUCER_ID, secret=OTHER_SECRET)
    assert (await api.post_signal(signal_body(), signer=other))[0] == 201

    api.clock.advance(0.5)  # one token refilled at 2/s
    assert (await api.post_signal(signal_body(version=10)))[0] == 201
