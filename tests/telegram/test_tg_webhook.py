"""Webhook mode: Telegram pushes updates to the desk's own aiohttp app, checked by the secret token."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp

from bot.app import open_desk, serve_http
from bot.emulator import BotApiEmulator
from tests.support import FakeClock
from tests.telegram.conftest import TRADERS, card_for, current, telegram_settings
from tests.telegram.test_tg_restart import _post

SECRET = "webhook-secret-token-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_receives_presses_and_refuses_a_wrong_secret(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock
) -> None:
    port = _free_port()
    settings = telegram_settings(
        database_url, emulator, mode="webhook", webhook_url=f"http://127.0.0.1:{port}/telegram/webhook", webhook_secret=SECRET
    )
    settings.http.port = port
    async with open_desk(settings, clock=clock) as desk, serve_http(desk.http_app, "127.0.0.1", port) as url:
        signal = await _post(url, clock.now)
        card = await card_for(emulator, TRADERS[0], signal)
        answer = await emulator.wait_for_answer(emulator.press(TRADERS[0], card.message_id, button="Approve"))
        assert answer.text.startswith("Approved")
        await emulator.wait_until(lambda: "Approved by you" in (current(emulator, card).text or ""))

        update: dict[str, Any] = {"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/start"}}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 401
            async with session.post(f"{url}/telegram/webhook", json=update) as r:
                assert r.status == 401
