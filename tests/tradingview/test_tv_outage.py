"""Database down: an alert gets 503 with Retry-After, nothing is half-written, and TradingView's resend succeeds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.tcp_proxy import TcpProxy
from tests.tradingview.tv_alerts import alert_fields, send_like_tradingview, text_message, tv_settings

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_outage_is_503_and_recovers(api_factory: Any, database_url: str) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    api = await api_factory(tv_settings(url.set(port=proxy.port).render_as_string(hide_password=False)))

    message = text_message(alert_fields(api))
    await proxy.cut()
    status, headers, problem = await send_like_tradingview(api, message)
    assert status == 503 and headers["Retry-After"] == "5" and problem["type"] == "/problems/storage-unavailable"

    await proxy.start()
    api.clock.advance(5)  # TradingView resends a 5xx-answered alert, unchanged, after 5 s (up to 3 times)
    status, _, signal = await send_like_tradingview(api, message)
    assert status == 201, signal  # the refused attempt left nothing behind to collide with
    assert (await send_like_tradingview(api, message))[0] == 409  # and a further resend cannot add a second
