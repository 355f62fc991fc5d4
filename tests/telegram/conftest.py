"""A desk wired to the project's Bot API emulator over real HTTP, built from config like production."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from bot.emulator.model import SentMessage
from tests.conftest import Api, make_settings
from tests.support import signal_body

TRADERS = (111, 222)
VIEWER = 333
ADMIN = 900  # also the ops chat
STRANGER = 555


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as telegram:
        yield telegram


def telegram_settings(database_url: str, emulator: BotApiEmulator, **telegram: Any) -> Any:
    section = {
        "token": emulator.token,
        "api_base": emulator.base_url,
        "traders": list(TRADERS),
        "admins": [ADMIN],
        "viewers": [VIEWER],
        "ops_chat_id": ADMIN,
        # The emulator is unlimited here; tests of the limits set both sides explicitly.
        "rate_global_per_second": 1000,
        "rate_chat_per_second": 100,
        **telegram,
    }
    return make_settings(database_url, telegram=section, signals={"rate_per_second": 0})


@pytest.fixture
async def desk(emulator: BotApiEmulator, api_factory: Any, database_url: str) -> Api:
    # `emulator` first: set up before the desk, so it is torn down after it.
    return await api_factory(telegram_settings(database_url, emulator))


async def post_signal(api: Api, **fields: Any) -> dict[str, Any]:
    status, _, body = await api.post_signal(signal_body(**fields))
    assert status == 201, body
    return body


async def card_for(emulator: BotApiEmulator, chat_id: int, signal: dict[str, Any]) -> SentMessage:
    """The card about `signal` in `chat_id`, once it has arrived."""
    short = signal["id"].replace("-", "")[-8:]

    def has_card(messages: list[SentMessage]) -> bool:
        return any(m.text and f"#{short}" in m.text for m in messages)

    messages = await emulator.wait_for_messages(chat_id, has_card, timeout=10)
    return next(m for m in messages if m.text and f"#{short}" in m.text)


def current(emulator: BotApiEmulator, message: SentMessage) -> SentMessage:
    return next(m for m in emulator.messages(message.chat_id) if m.message_id == message.message_id)


async def reply_to(emulator: BotApiEmulator, user: int, text: str) -> str:
    """What the bot answers when `user` sends `text`."""
    before = len(emulator.messages(user))
    emulator.say(user, text)
    messages = await emulator.wait_for_messages(user, before + 1, timeout=10)
    return messages[before].text or ""


@pytest.fixture
def alert_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The log with every ops alert in it, the suppressed ones too (they show nowhere else)."""
    caplog.set_level(logging.INFO, logger="signaldesk.ops_alerts")
    return caplog
