"""A heartbeat that stops is noticed by the watchdog, which is not a scheduler job, and so is its return."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from bot.emulator import BotApiEmulator
from core.errors import BrokerUnavailable
from tests.support import FakeClock
from tests.telegram.conftest import telegram_settings
from tests.telegram.ops_support import REPEATED, WINDOW, logged, ops_alerts, suppressed, with_alerts


class Hang:
    """Makes a broker call hang until released, as a broker that stops answering does."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self._release = asyncio.Event()

    async def __call__(self, account_id: str) -> Decimal:
        self.entered.set()
        await self._release.wait()
        raise BrokerUnavailable("the broker stopped answering")

    def release(self) -> None:
        self._release.set()


async def test_a_stopped_heartbeat_is_noticed_by_the_watchdog_and_so_is_its_return(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock,
    alert_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # heartbeat_seconds 1: the heartbeat job beats, and the watchdog looks, every second.
    desk = await api_factory(with_alerts(telegram_settings(database_url, emulator), heartbeat_seconds=1))
    broker = desk.desk.trading.broker

    async def stall_heartbeat(advance: float) -> Hang:
        """The heartbeat job gets stuck on a broker call; then `advance` seconds pass without a beat."""
        hang = Hang()
        monkeypatch.setattr(broker, "account_equity", hang)
        await hang.entered.wait()
        clock.advance(advance)
        return hang

    def resume(hang: Hang) -> None:
        monkeypatch.undo()
        hang.release()  # the stuck beat ends (its account failed) and records the beat

    hang = await stall_heartbeat(4)  # more than 3 intervals
    [late] = await ops_alerts(emulator, "heartbeat is late")
    assert "CRITICAL" in late and "expected every 1 s" in late
    resume(hang)
    [back] = await ops_alerts(emulator, "heartbeat is on time again")
    assert "INFO" in back

    hang = await stall_heartbeat(4)  # again within the window: counted, not sent
    await logged(alert_log, suppressed("heartbeat_late"))
    resume(hang)
    await logged(alert_log, suppressed("heartbeat_back"))

    hang = await stall_heartbeat(WINDOW)
    lates = await ops_alerts(emulator, "heartbeat is late", 2)
    assert REPEATED in lates[1]
    resume(hang)

