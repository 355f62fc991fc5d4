"""The control API over HTTP, as `signaldesk emulator say/press` and the demo will use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot

from bot.emulator import BotApiEmulator
from tests.emulator.helpers import TRADER, Decision, decision_keyboard


@pytest.fixture
async def control(telegram: BotApiEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(f"{telegram.base_url}/_emulator/") as http:
        yield http


async def call(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> Any:
    async with http.request(method, path, **kwargs) as response:
        return response.status, await response.json() if response.status != 204 else None


async def test_say_press_and_read_back_over_http(
    telegram: BotApiEmulator, bot: Bot, control: aiohttp.ClientSession
) -> None:
    status, said = await call(control, "POST", "say", json={"user_id": TRADER, "text": "/start"})
    assert status == 201 and said["message"]["text"] == "/start"
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    await bot.send_message(TRADER, "XAUUSD buy", reply_markup=decision_keyboard(7))

    status, read = await call(control, "GET", f"chats/{TRADER}/messages?min_count=1&timeout=2")
    assert status == 200
    (card,) = read["messages"]
    assert card["text"] == "XAUUSD buy" and card["has_photo"] is False and card["deleted"] is False
    assert [b["text"] for b in card["buttons"][0]] == ["Approve", "Reject"]

    press = {"chat_id": TRADER, "message_id": card["message_id"], "button": "Reject"}
    status, pressed = await call(control, "POST", "press", json=press)
    assert status == 201
    callback_id = pressed["callback_query_id"]
    (_, update) = await bot.get_updates(offset=update.update_id, timeout=0)
    assert update.callback_query is not None
    assert Decision.unpack(update.callback_query.data or "").action == "reject"
    await bot.answer_callback_query(callback_id, text="Rejected")

    status, answered = await call(control, "GET", f"callbacks/{callback_id}?timeout=2")
    assert status == 200
    assert answered["answer"] == {"text": "Rejected", "show_alert": False, "url": None}


async def test_modes_limits_and_stats_over_http(
    telegram: BotApiEmulator, control: aiohttp.ClientSession
) -> None:
    assert await call(control, "PUT", f"blocked/{TRADER}") == (204, None)
    assert TRADER in telegram.state.blocked
    assert await call(control, "DELETE", f"blocked/{TRADER}") == (204, None)
    assert TRADER not in telegram.state.blocked

    assert await call(control, "PUT", "outage", json={"mode": "drop"}) == (200, {"mode": "drop"})
    assert await call(control, "PUT", "outage", json={"mode": "none"}) == (200, {"mode": "none"})

    limits = {"global_per_second": 30, "per_chat_per_second": 1, "speedup": 10.0}
    assert await call(control, "PUT", "limits", json=limits) == (200, limits)
    assert await call(control, "GET", "limits") == (200, limits)

    status, stats = await call(control, "GET", "stats")
    assert status == 200
    assert stats == {
        "too_many_requests": 0,
        "accepted_sends": 0,
        "peak_per_second": 0,
        "peak_per_second_in_a_chat": 0,
        "photo_uploads": 0,
    }


async def test_bad_control_requests_say_why(
    telegram: BotApiEmulator, control: aiohttp.ClientSession
) -> None:
    press = {"chat_id": TRADER, "message_id": 9, "data": "x"}
    status, body = await call(control, "POST", "press", json=press)
    assert (status, body) == (400, {"error": f"no bot message 9 in chat {TRADER}"})
    status, body = await call(control, "POST", "say", json={"text": "hi"})
    assert (status, body) == (400, {"error": "missing field 'user_id'"})
    status, body = await call(control, "PUT", "outage", json={"mode": "sunspots"})
    assert status == 400
    status, body = await call(control, "GET", "callbacks/123")
    assert (status, body) == (400, {"error": "no callback query 123"})
    status, body = await call(control, "GET", f"chats/{TRADER}/messages?min_count=1&timeout=0.01")
    assert status == 408
