"""Our ProducerClient against the real app: both sides of the signing scheme agree end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.producer_client import ProducerApiError, ProducerClient
from tests.conftest import Api
from tests.support import PRODUCER_ID, SECRET


async def test_client_sends_reads_and_lists(api: Api) -> None:
    async with ProducerClient(api.base_url, PRODUCER_ID, SECRET, clock=api.clock.now) as client:
        sent = await client.send_signal("XAUUSD", "buy", "2400.50", "2390", "2420", time=api.clock.now(), external_id="c-1")
        assert sent.created and sent.signal["status"] == "new"
        assert (await client.get_signal(sent.signal["id"]))["external_id"] == "c-1"
        assert [s["id"] for s in (await client.list_signals(instrument="XAUUSD", limit=10))["signals"]] == [sent.signal["id"]]
        with pytest.raises(ProducerApiError) as refused:
            await client.send_signal("XAUUSD", "buy", "2400.50", "2390", "2420", time=api.clock.now(), external_id="c-1")
        assert refused.value.status == 409 and sent.signal["id"] in refused.value.detail


async def test_client_with_a_slow_clock_is_told_why(api: Api) -> None:
    async with ProducerClient(api.base_url, PRODUCER_ID, SECRET, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as client:
        with pytest.raises(ProducerApiError) as refused:
            await client.send_signal("XAUUSD", "buy", "2400.50", "2390", "2420", time=api.clock.now())
    assert refused.value.status == 401 and "3600 s behind server time" in refused.value.detail
