"""Without a bot token the desk still trades, so it is still guarded: the scheduler runs the heartbeat,
and a breach closes and blocks, with the alert in the log since there is no chat to send it to."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.health_watch import HEARTBEAT
from core.trades import CloseReason
from tests.conftest import make_settings
from tests.risk.desk_trades import buy, quote


async def test_a_desk_without_telegram_guards_its_accounts(api_factory: Any, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    api = await api_factory(make_settings(database_url, telegram={"traders": [111]}, scheduler={"heartbeat_seconds": 3600}))
    assert api.desk.telegram is None
    await quote(api, "XAUUSD", "2400.00", "2400.50")
    await buy(api, "tg-111", "XAUUSD", "1", "sig-1")
    await quote(api, "XAUUSD", "2370.00", "2370.50")

    await api.desk.heartbeat.beat()

    [closed] = await api.desk.trading.trade_store.closed_positions("tg-111")
    assert closed.close_reason is CloseReason.DRAWDOWN and await api.desk.drawdown.is_blocked("tg-111")
    assert "event=ops_alert kind=drawdown_breach severity=critical subject='account tg-111'" in caplog.text


async def test_the_scheduler_beats_without_telegram(api_factory: Any, database_url: str) -> None:
    api = await api_factory(make_settings(database_url, scheduler={"heartbeat_seconds": 1}))
    async with asyncio.timeout(15):  # the scheduler's first beat comes one interval after the start
        while await api.desk.queries.last_beat(HEARTBEAT) is None:
            await asyncio.sleep(0.05)
