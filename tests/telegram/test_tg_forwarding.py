"""Forwarding an executed signal: it goes to the target once, when the first trader's order is placed, however
many traders approve it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.config import ForwardSettings
from bot.emulator import BotApiEmulator
from core.quotes import Quote
from tests.ops.forward_support import receiving, rows_when, target
from tests.support import FakeClock
from tests.telegram.conftest import TRADERS, card_for, post_signal, telegram_settings


async def test_an_executed_signal_is_forwarded_once_when_its_first_order_is_placed(
    emulator: BotApiEmulator, api_factory: Any, database_url: str, clock: FakeClock
) -> None:
    async with receiving(clock, [201]) as receiver:
        forward = [ForwardSettings(**target(receiver.url, events=["executed"]))]
        desk = await api_factory(telegram_settings(database_url, emulator).model_copy(update={"forward": forward}))
        await desk.desk.quotes.submit([Quote("XAUUSD", Decimal("2400.30"), Decimal("2400.60"), clock.now())])
        signal = await post_signal(desk)
        for trader in TRADERS:
            emulator.press(trader, (await card_for(emulator, trader, signal)).message_id, button="Approve")
        for trader in TRADERS:
            await emulator.wait_for_messages(trader, lambda ms: any("Order placed" in (m.text or "") for m in ms))
        [row] = await rows_when(desk, lambda rows: len(rows) == 1 and rows[0].state == "delivered")
        [delivery] = await receiver.wait_for(1)

    assert row.event == "executed" and len(receiver.received) == 1
    assert delivery.signed_correctly and delivery.headers["X-SignalDesk-Event"] == "executed"
    assert delivery.headers["X-Idempotency-Key"] == f"{signal['id']}-executed"
    assert delivery.json()["external_id"] == signal["id"]
