"""Ops alerts, each produced by its real cause, arriving in the ops chat once; a repeat within the window is
suppressed, and the next alert that goes out says how many were."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.emulator import BotApiEmulator
from tests.support import PRODUCER_ID, FakeClock, SignedHeaders, signal_body
from tests.tcp_proxy import TcpProxy
from tests.telegram.conftest import TRADERS, card_for, post_signal, telegram_settings
from tests.telegram.ops_support import REPEATED, WINDOW, logged, ops_alerts, suppressed, with_alerts

async def test_a_burst_of_bad_signatures_alerts_once_and_counts_the_repeats(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, alert_log: pytest.LogCaptureFixture
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
    await logged(alert_log, suppressed("auth_failures"))
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
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, alert_log: pytest.LogCaptureFixture
) -> None:
    # A mistyped trader id: Telegram answers 400 "chat not found", which no retry can fix.
    settings = with_alerts(telegram_settings(database_url, emulator, traders=[TRADERS[0], -42]))
    desk = await api_factory(settings)
    first = await post_signal(desk, external_id="r-1")
    [alert] = await ops_alerts(emulator, "Telegram refused a message")
    assert "chat -42" in alert and "chat not found" in alert and first["id"] in alert and "Gave up on that message" in alert
    await card_for(emulator, TRADERS[0], first)  # the other trader is not affected

    await post_signal(desk, external_id="r-2", version=2)
    await logged(alert_log, suppressed("telegram_gave_up"))
    clock.advance(WINDOW)
    await post_signal(desk, external_id="r-3", version=3)
    alerts = await ops_alerts(emulator, "Telegram refused a message", 2)
    assert len(alerts) == 2 and REPEATED in alerts[1]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_down_and_back_alert_on_each_change(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock, alert_log: pytest.LogCaptureFixture
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
    await logged(alert_log, suppressed("database_down"))
    await proxy.start()
    await logged(alert_log, suppressed("database_back"))

    clock.advance(WINDOW)
    await proxy.cut()
    downs = await ops_alerts(emulator, "database is unavailable", 2)
    await proxy.start()
    backs = await ops_alerts(emulator, "database answers again", 2)
    assert len(downs) == len(backs) == 2 and REPEATED in downs[1] and REPEATED in backs[1]

