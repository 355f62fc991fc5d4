"""Commands as traders, admins and strangers see them, through the emulator."""

from __future__ import annotations

from bot.emulator import BotApiEmulator
from tests.conftest import Api
from tests.telegram.conftest import ADMIN, STRANGER, TRADERS, VIEWER, card_for, post_signal


async def _reply(emulator: BotApiEmulator, user: int, text: str) -> str:
    before = len(emulator.messages(user))
    emulator.say(user, text)
    messages = await emulator.wait_for_messages(user, before + 1, timeout=10)
    return messages[before].text or ""


async def test_start_tells_a_stranger_their_id_and_how_to_join(desk: Api, emulator: BotApiEmulator) -> None:
    reply = await _reply(emulator, STRANGER, "/start")
    assert f"Your Telegram user id is {STRANGER}" in reply
    assert "telegram.traders" in reply


async def test_start_tells_a_trader_their_role_and_help_lists_their_commands(desk: Api, emulator: BotApiEmulator) -> None:
    assert "your role: trader" in await _reply(emulator, TRADERS[0], "/start")
    reply = await _reply(emulator, TRADERS[0], "/help")
    assert "/signals" in reply and "/close — close a position: /close <id>" in reply and "/status" not in reply
    assert "/status" in await _reply(emulator, ADMIN, "/help")


async def test_commands_are_registered_with_telegram(desk: Api, emulator: BotApiEmulator) -> None:
    await emulator.wait_until(lambda: bool(emulator.state.commands))
    registered = {c["command"] for scope in emulator.state.commands.values() for c in scope}
    assert {"start", "help", "signals", "status", "pause", "resume"} <= registered


async def test_status_is_for_admins(desk: Api, emulator: BotApiEmulator) -> None:
    await card_for(emulator, TRADERS[0], await post_signal(desk))  # so the card cannot interleave with replies
    reply = await _reply(emulator, ADMIN, "/status")
    assert "SignalDesk" in reply and "Database: up" in reply and "new 1" in reply and "Outbox:" in reply
    refused = await _reply(emulator, TRADERS[0], "/status")
    assert refused.startswith("This is for admins only")


async def test_signals_lists_the_latest(desk: Api, emulator: BotApiEmulator) -> None:
    signal = await post_signal(desk)
    await card_for(emulator, TRADERS[0], signal)
    reply = await _reply(emulator, TRADERS[0], "/signals")
    assert f"#{signal['id'].replace('-', '')[-8:]}" in reply and "XAUUSD" in reply and "new" in reply
    assert (await _reply(emulator, STRANGER, "/signals")).startswith("This is for traders only")


async def test_unknown_command_and_plain_text_get_a_usage_hint(desk: Api, emulator: BotApiEmulator) -> None:
    assert await _reply(emulator, TRADERS[0], "/frobnicate now") == "Unknown command /frobnicate. Send /help for the list."
    assert "Send /help" in await _reply(emulator, TRADERS[0], "hello?")


async def test_paused_trader_gets_no_cards_until_resumed(desk: Api, emulator: BotApiEmulator) -> None:
    assert "Paused" in await _reply(emulator, TRADERS[1], "/pause")
    first = await post_signal(desk, external_id="while-paused")
    await card_for(emulator, TRADERS[0], first)
    await card_for(emulator, VIEWER, first)
    assert not any("#" + first["id"].replace("-", "")[-8:] in (m.text or "") for m in emulator.messages(TRADERS[1]))

    assert "Resumed" in await _reply(emulator, TRADERS[1], "/resume")
    second = await post_signal(desk, external_id="after-resume", version=2)
    await card_for(emulator, TRADERS[1], second)
