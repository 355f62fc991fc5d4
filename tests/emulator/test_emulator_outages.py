"""Users who blocked the bot, Telegram answering 503, and connections dropped mid-request."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramServerError

from bot.emulator import BotApiEmulator, Outage
from tests.emulator.helpers import TRADER


async def test_blocked_user_answers_forbidden_until_unblocked(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    card = await bot.send_message(TRADER, "card")
    telegram.block(TRADER)

    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(TRADER, "another card")
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("edited", chat_id=TRADER, message_id=card.message_id)
    await bot.send_message(TRADER + 1, "other traders still get theirs")

    telegram.unblock(TRADER)
    await bot.send_message(TRADER, "welcome back")
    assert [m.text for m in telegram.messages(TRADER)] == ["card", "welcome back"]


async def test_unavailable_answers_503_to_everything(telegram: BotApiEmulator, bot: Bot) -> None:
    telegram.set_outage(Outage.UNAVAILABLE)

    with pytest.raises(TelegramServerError, match="Service Unavailable"):
        await bot.send_message(TRADER, "card")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{telegram.base_url}/file/bot{telegram.token}/photos/x.png") as file:
            assert file.status == 503

    telegram.set_outage(Outage.NONE)
    await bot.send_message(TRADER, "card")
    assert [m.text for m in telegram.messages(TRADER)] == ["card"]


async def test_dropped_connection_is_a_network_error(telegram: BotApiEmulator, bot: Bot) -> None:
    telegram.set_outage(Outage.DROP)

    with pytest.raises(TelegramNetworkError):
        await bot.send_message(TRADER, "card")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()

    telegram.set_outage(Outage.NONE)
    assert (await bot.get_me()).is_bot
    assert telegram.messages(TRADER) == []
