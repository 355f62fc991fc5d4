"""Webhook mode: the emulator pushes updates with the secret header, in order, retrying."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.emulator import BotApiEmulator
from tests.emulator.helpers import TRADER

SECRET = "s3cret-token_value"
Serve = Callable[[web.Application], Awaitable[str]]


class Receiver:
    """A small webhook endpoint that records what arrives and fails on demand."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.failures_left = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.failures_left:
            self.failures_left -= 1
            return web.Response(status=500)
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        self.updates.append(await request.json())
        return web.json_response({})


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an aiohttp app on a free port; yields a function returning its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_updates_are_pushed_with_the_secret_in_order(
    telegram: BotApiEmulator, bot: Bot, serve: Serve
) -> None:
    receiver = Receiver()
    receiver.failures_left = 1
    app = web.Application()
    app.router.add_post("/telegram", receiver.handle)
    base = await serve(app)

    assert await bot.set_webhook(f"{base}/telegram", secret_token=SECRET)
    telegram.say(TRADER, "/start")
    telegram.say(TRADER, "/help")
    await telegram.wait_until(lambda: len(receiver.updates) == 2)

    assert [u["message"]["text"] for u in receiver.updates] == ["/start", "/help"]
    assert receiver.secrets == [SECRET, SECRET]
    info = await bot.get_webhook_info()
    assert info.url == f"{base}/telegram"
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_delete_webhook_can_drop_pending_updates(telegram: BotApiEmulator, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/unreachable", secret_token=SECRET)
    telegram.say(TRADER, "/start")
    assert (await bot.get_webhook_info()).pending_update_count == 1

    assert await bot.delete_webhook(drop_pending_updates=True)

    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == []


async def test_method_returned_by_an_aiogram_webhook_is_executed(
    telegram: BotApiEmulator, bot: Bot, serve: Serve
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        return message.answer(f"Your id is {message.chat.id}")

    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, secret_token=SECRET, handle_in_background=False
    ).register(app, "/telegram")
    base = await serve(app)
    await bot.set_webhook(f"{base}/telegram", secret_token=SECRET)

    telegram.say(TRADER, "/start")

    (reply,) = await telegram.wait_for_messages(TRADER)
    assert reply.text == f"Your id is {TRADER}"
