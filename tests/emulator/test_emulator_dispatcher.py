"""An aiogram Dispatcher polling the emulator, as the bot will run in polling mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message

from bot.emulator import BotApiEmulator
from tests.emulator.helpers import TRADER, Decision, decision_keyboard


@pytest.fixture
async def dispatcher(bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            f"Your id is <code>{message.chat.id}</code>",
            parse_mode="HTML",
            reply_markup=decision_keyboard(1),
        )

    @dispatcher.callback_query(Decision.filter(F.action == "approve"))
    async def approve(query: CallbackQuery, callback_data: Decision) -> None:
        await query.answer("Approved")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Signal {callback_data.signal_id}: approved")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    yield dispatcher
    await dispatcher.stop_polling()
    await polling


async def test_polling_dispatcher_answers_start_and_a_press(
    telegram: BotApiEmulator, dispatcher: Dispatcher
) -> None:
    telegram.say(TRADER, "/start")

    (welcome,) = await telegram.wait_for_messages(TRADER)
    assert welcome.text == f"Your id is {TRADER}"
    assert welcome.entities == ({"type": "code", "offset": 11, "length": 3},)

    callback_id = telegram.press(TRADER, welcome.message_id, button="Approve")

    answer = await telegram.wait_for_answer(callback_id)
    assert answer.text == "Approved"
    (decided,) = await telegram.wait_for_messages(TRADER, lambda ms: ms[0].edits == 1)
    assert decided.text == "Signal 1: approved"
    assert decided.buttons == ()
