"""Ops alerts, each produced by its real cause, arriving in the ops chat once; a repeat within the window is
suppressed, and the next alert that goes out says how many were."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.config import AlertSettings, SchedulerSettings, Settings
from bot.emulator import BotApiEmulator
from tests.conftest import Api
from tests.support import PRODUCER_ID, FakeClock, SignedHeaders, signal_body
from tests.tcp_proxy import TcpProxy
from tests.telegram.conftest import ADMIN, TRADERS, card_for, post_signal, telegram_settings

WINDOW = 300
REPEATED = "1 repeat(s) of this alert suppressed"


def with_alerts(settings: Settings, **scheduler: Any) -> Settings:
    return settings.model_copy(update={
        "alerts": AlertSettings(window_seconds=WINDOW, auth_failures=3, auth_failure_window_seconds=60),
        "scheduler": SchedulerSettings(**scheduler),
    })


async def ops_alerts(emulator: BotApiEmulator, phrase: str, count: int = 1) -> list[str]:
    """The ops chat's alerts containing `phrase`, once there are `count` of them."""
    messages = await emulator.wait_for_messages(ADMIN, lambda ms: sum(phrase in (m.text or "") for m in ms) >= count, timeout=15)
    return [m.text or "" for m in messages if phrase in (m.text or "")]


async def logged(caplog: pytest.LogCaptureFixture, condition: Callable[[str], bool]) -> None:
    """Wait until the log has a line meeting `condition` (how a suppressed alert shows: in the log only)."""
    async with asyncio.timeout(15):
        while not any(condition(r.getMessage()) for r in caplog.records):
            await asyncio.sleep(0.02)


def suppressed(kind: str) -> Callable[[str], bool]:
    return lambda line: line.startswith("event=ops_alert_suppressed") and f"kind={kind} " in line


@pytest.fixture(autouse=True)
def _capture_alert_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="signaldesk.ops_alerts")


async def test_a_burst_of_bad_signatures_alerts_once_and_counts_the_repeats(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    desk = await api_factory(with_alerts(telegram_settings(database_url, emulator)))
    wrong_secret = SignedHeaders(secret="a-rotated-away-secret-000")

    async def burst() -> None:
        for n in range(3):
            status, _, problem = await desk.post_signal(signal_body(external_id=f"bad-{n}"), signer=wrong_secret)
            assert status == 401 and problem["type"] == "/problems/bad-signature"

    await burst()
    [alert] = await ops_alerts(emulator, "failed authentications")
    assert "WARNING" in alert and f"producer {PRODUCER_ID}" in alert and "bad_signature" in alert and "401" in alert

    await burst()  # the same alert again, within the window
    await logged(caplog, suppressed("auth_failures"))
    clock.advance(WINDOW)
    await burst()
    first, second = await ops_alerts(emulator, "failed authentications", 2)
    assert REPEATED in second and REPEATED not in first
    # A good producer is not held up by any of it.
    assert (await desk.post_signal(signal_body(external_id="good")))[0] == 201


async def test_unknown_producer_ids_are_counted_together(emulator: BotApiEmulator, api_factory: Any, database_url: str) -> None:
    desk = await api_factory(with_alerts(telegram_settings(database_url, emulator)))
    for n in range(3):  # a scan with made-up ids: one alert about them all
        status, _, _ = await desk.post_signal(signal_body(), signer=SignedHeaders(producer_id=f"scanner-{n}"))
        assert status == 401
    [alert] = await ops_alerts(emulator, "failed authentications")
    assert "unknown producer ids" in alert and "unknown_producer" in alert


async def test_telegram_refusing_a_chat_alerts_once_per_window(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # A mistyped trader id: Telegram answers 400 "chat not found", which no retry can fix.
    settings = with_alerts(telegram_settings(database_url, emulator, traders=[TRADERS[0], -42]))
    desk = await api_factory(settings)
    first = await post_signal(desk, external_id="r-1")
    [alert] = await ops_alerts(emulator, "Telegram refused a message")
    assert "chat -42" in alert and "chat not found" in alert and first["id"] in alert and "Gave up on that message" in alert
    await card_for(emulator, TRADERS[0], first)  # the other trader is not affected

    await post_signal(desk, external_id="r-2", version=2)
    await logged(caplog, suppressed("telegram_gave_up"))
    clock.advance(WINDOW)
    await post_signal(desk, external_id="r-3", version=3)
    alerts = await ops_alerts(emulator, "Telegram refused a message", 2)
    assert len(alerts) == 2 and REPEATED in alerts[1]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_down_and_back_alert_on_each_change(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    # heartbeat_seconds is also the watchdog's period: 1 s, so the test does not wait long for a probe.
    await api_factory(with_alerts(telegram_settings(through_proxy, emulator), heartbeat_seconds=1))

    await proxy.cut()
    [down] = await ops_alerts(emulator, "database is unavailable")  # sent past the outbox, which is in the database
    assert "CRITICAL" in down and "503" in down
    await proxy.start()
    [back] = await ops_alerts(emulator, "database answers again")
    assert "INFO" in back

    await proxy.cut()  # flapping within the window: counted, not sent
    await logged(caplog, suppressed("database_down"))
    await proxy.start()
    await logged(caplog, suppressed("database_back"))

    clock.advance(WINDOW)
    await proxy.cut()
    downs = await ops_alerts(emulator, "database is unavailable", 2)
    await proxy.start()
    backs = await ops_alerts(emulator, "database answers again", 2)
    assert len(downs) == len(backs) == 2 and REPEATED in downs[1] and REPEATED in backs[1]

