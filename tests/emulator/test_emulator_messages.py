"""Sending, reading back, pressing, answering and editing, with a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from bot.emulator import BotApiEmulator, ControlError
from tests.emulator.helpers import TRADER, Decision, connected_bot, decision_keyboard, png_bytes


async def test_get_me_describes_the_bot_of_the_token(telegram: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == int(telegram.token.split(":")[0])
    assert me.is_bot
    assert me.username == telegram.state.bot.username


async def test_unknown_token_is_unauthorized(telegram: BotApiEmulator) -> None:
    async with connected_bot(telegram.base_url, "42:not-the-token") as stranger:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()


async def test_unknown_method_is_not_found(telegram: BotApiEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{telegram.base_url}/bot{telegram.token}/sendTelepathy") as response:
            assert response.status == 404
            body = await response.json()
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_message_with_keyboard_reads_back(telegram: BotApiEmulator, bot: Bot) -> None:
    first = await bot.send_message(TRADER, "<b>XAUUSD</b> buy", parse_mode="HTML")
    second = await bot.send_message(TRADER, "card", reply_markup=decision_keyboard(7))

    assert second.message_id == first.message_id + 1
    assert second.chat.id == TRADER and second.chat.type == "private"
    assert second.from_user is not None and second.from_user.is_bot
    assert second.reply_markup is not None
    assert second.reply_markup.model_dump() == decision_keyboard(7).model_dump()
    card, keyboard_card = telegram.messages(TRADER)
    assert card.text == "XAUUSD buy"
    assert card.entities == ({"type": "bold", "offset": 0, "length": 6},)
    approve = keyboard_card.button("Approve")
    assert Decision.unpack(approve.callback_data or "") == Decision(signal_id=7, action="approve")
    assert [b.text for b in keyboard_card.buttons[0]] == ["Approve", "Reject"]


async def test_malformed_html_is_refused_like_telegram(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(TRADER, "<div>XAUUSD</div>", parse_mode="HTML")


async def test_press_arrives_by_long_polling_then_answer_and_edits_apply(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    card = await bot.send_message(TRADER, "XAUUSD buy", reply_markup=decision_keyboard(7))
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await telegram.wait_until(lambda: telegram.state.poll_generation == 1)

    callback_id = telegram.press(TRADER, card.message_id, button="Approve")
    (update,) = await polling

    query = update.callback_query
    assert query is not None and query.id == callback_id
    assert query.from_user.id == TRADER
    assert query.message is not None and query.message.message_id == card.message_id
    assert Decision.unpack(query.data or "") == Decision(signal_id=7, action="approve")
    assert await bot.answer_callback_query(query.id, text="Approved", show_alert=True)
    await bot.edit_message_text(
        "XAUUSD buy\n✅ Approved", chat_id=TRADER, message_id=card.message_id
    )
    await bot.edit_message_reply_markup(
        chat_id=TRADER, message_id=card.message_id, reply_markup=decision_keyboard(8)
    )

    answer = await telegram.wait_for_answer(callback_id)
    assert (answer.text, answer.show_alert) == ("Approved", True)
    (edited,) = telegram.messages(TRADER)
    assert edited.text == "XAUUSD buy\n✅ Approved"
    assert edited.button("Reject").callback_data == Decision(signal_id=8, action="reject").pack()
    assert edited.edits == 2
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []


async def test_edit_errors_use_telegrams_descriptions(telegram: BotApiEmulator, bot: Bot) -> None:
    card = await bot.send_message(TRADER, "XAUUSD buy", reply_markup=decision_keyboard(7))
    user_message = telegram.say(TRADER, "hello")

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "XAUUSD buy",
            chat_id=TRADER,
            message_id=card.message_id,
            reply_markup=decision_keyboard(7),
        )
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("edited", chat_id=TRADER, message_id=user_message["message_id"])
    assert await bot.delete_message(TRADER, card.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("edited", chat_id=TRADER, message_id=card.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(TRADER, card.message_id)
    assert telegram.messages(TRADER)[0].deleted


async def test_photo_uploads_then_resends_by_file_id(telegram: BotApiEmulator, bot: Bot) -> None:
    chart = png_bytes(1600, 900)
    uploaded = await bot.send_photo(
        TRADER,
        BufferedInputFile(chart, filename="chart.png"),
        caption="<b>XAUUSD</b> H1",
        parse_mode="HTML",
        reply_markup=decision_keyboard(7),
    )
    assert uploaded.photo is not None
    sizes = [(p.width, p.height) for p in uploaded.photo]
    assert sizes == [(90, 51), (320, 180), (800, 450), (1280, 720)]
    assert len({p.file_id for p in uploaded.photo}) == 4
    assert len({p.file_unique_id for p in uploaded.photo}) == 4
    biggest = uploaded.photo[-1]

    again = await bot.send_photo(TRADER, biggest.file_id, caption="again")
    await bot.edit_message_caption(chat_id=TRADER, message_id=again.message_id, caption="edited")

    assert again.photo == uploaded.photo
    downloaded = await bot.download(biggest.file_id)
    assert downloaded is not None and downloaded.read() == chart
    assert telegram.uploads == 1  # the second send re-used the upload
    first, second = telegram.messages(TRADER)
    assert (first.has_photo, first.text) == (True, "XAUUSD H1")
    assert first.photo_file_id == biggest.file_id
    assert (second.text, second.edits, second.buttons) == ("edited", 1, ())
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(TRADER, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("text", chat_id=TRADER, message_id=again.message_id)


async def test_a_refused_photo_send_stores_no_upload(telegram: BotApiEmulator, bot: Bot) -> None:
    telegram.block(TRADER)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_photo(TRADER, BufferedInputFile(png_bytes(64, 64), filename="chart.png"))
    telegram.unblock(TRADER)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(TRADER, BufferedInputFile(b"not an image", filename="chart.png"))

    assert telegram.uploads == 0 and telegram.messages(TRADER) == []


async def test_commands_are_stored_per_scope(bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Your id and role")]

    assert await bot.set_my_commands(commands)

    assert [c.model_dump() for c in await bot.get_my_commands()] == [commands[0].model_dump()]
    assert await bot.get_my_commands(language_code="de") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_allowed_updates_filter_later_updates(telegram: BotApiEmulator, bot: Bot) -> None:
    card = await bot.send_message(TRADER, "card", reply_markup=decision_keyboard(7))
    assert await bot.get_updates(allowed_updates=["callback_query"], timeout=0) == []

    telegram.say(TRADER, "/start")
    telegram.press(TRADER, card.message_id, button="Reject")

    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query is not None


async def test_user_command_carries_a_bot_command_entity(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    telegram.say(TRADER, "/close 42", first_name="Ada")

    (update,) = await bot.get_updates(timeout=0)

    message = update.message
    assert message is not None and message.text == "/close 42"
    assert message.from_user is not None and message.from_user.first_name == "Ada"
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bot_command", 6)


async def test_newer_long_poll_ends_the_older_with_conflict(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await telegram.wait_until(lambda: telegram.state.poll_generation == 1)
    newer = asyncio.create_task(bot.get_updates(timeout=5))

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older
    telegram.say(TRADER, "hi")
    assert len(await newer) == 1


async def test_stale_and_foreign_presses_must_be_asked_for(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    card = await bot.send_message(TRADER, "card", reply_markup=decision_keyboard(7))
    data = Decision(signal_id=7, action="approve").pack()
    await bot.edit_message_reply_markup(chat_id=TRADER, message_id=card.message_id)

    with pytest.raises(ControlError, match="has no button"):
        telegram.press(TRADER, card.message_id, data=data)
    telegram.press(TRADER, card.message_id, data=data, user_id=999, require_button=False)

    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == data and query.from_user.id == 999
    assert query.message is not None and query.message.reply_markup is None


async def test_keyboard_rules_are_enforced_like_telegram(bot: Bot) -> None:
    too_long = InlineKeyboardButton(text="Approve", callback_data="x" * 65)
    label_only = InlineKeyboardButton(text="Approve")

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(TRADER, "card", reply_markup=keyboard(too_long))
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(TRADER, "card", reply_markup=keyboard(label_only))


def keyboard(button: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def test_negative_offset_keeps_only_the_latest_updates(
    telegram: BotApiEmulator, bot: Bot
) -> None:
    for text in ("one", "two", "three"):
        telegram.say(TRADER, text)

    (latest,) = await bot.get_updates(offset=-1, timeout=0)

    assert latest.message is not None and latest.message.text == "three"
    assert len(await bot.get_updates(timeout=0)) == 1
