"""Delivery when Telegram misbehaves: blocked users, outages. Nothing lost, nothing out of order."""

from __future__ import annotations

from bot.emulator import BotApiEmulator, Outage
from tests.conftest import Api
from tests.telegram.conftest import ADMIN, TRADERS, card_for, post_signal


async def test_a_trader_who_blocked_the_bot_is_skipped_and_ops_are_told(desk: Api, emulator: BotApiEmulator) -> None:
    emulator.block(TRADERS[1])
    first = await post_signal(desk, external_id="b-1")
    await card_for(emulator, TRADERS[0], first)
    alerts = await emulator.wait_for_messages(ADMIN, lambda ms: any("blocked the bot" in (m.text or "") for m in ms))
    assert any(f"User {TRADERS[1]} blocked the bot" in (m.text or "") for m in alerts)

    second = await post_signal(desk, external_id="b-2", version=2)
    await card_for(emulator, TRADERS[0], second)
    assert emulator.messages(TRADERS[1]) == []
    status = desk.desk.telegram.outbox if desk.desk.telegram else None
    assert status is not None and await status.chat_flags(TRADERS[1]) == (False, True)

    emulator.unblock(TRADERS[1])
    emulator.say(TRADERS[1], "/start")  # coming back re-enables their cards
    await emulator.wait_for_messages(TRADERS[1], 1)
    third = await post_signal(desk, external_id="b-3", version=3)
    await card_for(emulator, TRADERS[1], third)


async def test_telegram_down_loses_nothing_and_delivers_in_order_after(desk: Api, emulator: BotApiEmulator) -> None:
    emulator.set_outage(Outage.UNAVAILABLE)
    signals = [await post_signal(desk, external_id=f"o-{i}", version=i + 1) for i in range(5)]
    telegram = desk.desk.telegram
    assert telegram is not None
    await emulator.wait_until(lambda: True)  # let the first attempts fail
    emulator.set_outage(Outage.NONE)
    desk.clock.advance(120)  # past every backoff: the retries are due now
    telegram.sender.wake()

    for trader in TRADERS:
        cards = await emulator.wait_for_messages(trader, 5, timeout=15)
        shorts = [s["id"].replace("-", "")[-8:] for s in signals]
        assert [next(sh for sh in shorts if f"#{sh}" in (m.text or "")) for m in cards] == shorts


async def test_dropped_connections_are_retried(desk: Api, emulator: BotApiEmulator) -> None:
    emulator.set_outage(Outage.DROP)
    signal = await post_signal(desk)
    emulator.set_outage(Outage.NONE)
    desk.clock.advance(120)
    assert desk.desk.telegram is not None
    desk.desk.telegram.sender.wake()
    await card_for(emulator, TRADERS[0], signal)
