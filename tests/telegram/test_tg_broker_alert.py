"""A broker that keeps failing an approved order: one ops alert per account and window, repeats counted."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator import BotApiEmulator
from core.errors import BrokerUnavailable
from tests.conftest import Api
from tests.support import FakeClock, rfc3339
from tests.telegram.conftest import TRADERS, card_for, post_signal, telegram_settings
from tests.telegram.ops_support import REPEATED, WINDOW, logged, ops_alerts, suppressed, with_alerts


async def test_a_broker_failing_an_approved_order_alerts_once_per_account_and_window(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock,
    alert_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = with_alerts(
        telegram_settings(database_url, emulator), execution_interval_seconds=0.2, execution_max_attempts=2
    )
    desk: Api = await api_factory(settings)

    async def broker_down(*_: Any) -> Any:
        raise BrokerUnavailable("connection to the trade server lost")

    monkeypatch.setattr(desk.desk.trading.broker, "place", broker_down)

    async def approve_and_fail(version: int) -> None:
        quote = {"instrument": "XAUUSD", "bid": 2400.2, "ask": 2400.5, "time": rfc3339(clock.now())}
        status, _, body = await desk.request("POST", "/api/v1/quotes", {"quotes": [quote]})
        assert status == 202, body
        signal = await post_signal(desk, external_id=f"b-{version}", version=version, time=rfc3339(clock.now()))
        card = await card_for(emulator, TRADERS[0], signal)
        await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
        await logged(alert_log, lambda line: line.startswith("event=execution_retry") and "attempt=1" in line)
        alert_log.clear()
        clock.advance(2)  # the retry's backoff; the second attempt fails too, and that was the last

    await approve_and_fail(1)
    [alert] = await ops_alerts(emulator, "failed after 2 attempts")
    assert "CRITICAL" in alert and f"account tg-{TRADERS[0]}" in alert and "connection to the trade server lost" in alert

    await approve_and_fail(2)
    await logged(alert_log, suppressed("broker_retries_exhausted"))
    clock.advance(WINDOW)
    await approve_and_fail(3)
    alerts = await ops_alerts(emulator, "failed after 2 attempts", 2)
    assert len(alerts) == 2 and REPEATED in alerts[1]
