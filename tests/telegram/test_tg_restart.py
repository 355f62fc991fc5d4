"""A restart never loses or repeats a card, even when it interrupts a delivery."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import open_desk, serve_http
from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from tests.processes import served_url, start_serve
from tests.support import FakeClock, SignedHeaders, encode, rfc3339, signal_body
from tests.telegram.conftest import TRADERS, card_for, telegram_settings


async def _post(url: str, clock_now: Any, **fields: Any) -> dict[str, Any]:
    raw = encode(signal_body(time=rfc3339(clock_now()), **fields))
    async with aiohttp.ClientSession() as session:
        headers = SignedHeaders().build("POST", "/api/v1/signals", raw, rfc3339(clock_now()))
        async with session.post(url + "/api/v1/signals", data=raw, headers=headers) as response:
            assert response.status == 201
            return await response.json()


def _cards(emulator: BotApiEmulator, chat_id: int, signal: dict[str, Any]) -> int:
    short = signal["id"].replace("-", "")[-8:]
    return sum(1 for m in emulator.messages(chat_id) if f"#{short}" in (m.text or ""))


@pytest.mark.parametrize("crash_point", ["after_telegram_answered", "before_calling_telegram"])
async def test_an_interrupted_delivery_is_resolved_exactly_once(
    emulator: BotApiEmulator, database_url: str, clock: FakeClock, crash_point: str
) -> None:
    settings = telegram_settings(database_url, emulator, traders=[TRADERS[0]], viewers=[])
    async with open_desk(settings, clock=clock) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
        assert desk.telegram is not None
        crashed = asyncio.Event()

        async def crash(*_: Any) -> None:
            crashed.set()
            raise RuntimeError("process killed here")

        if crash_point == "after_telegram_answered":
            desk.telegram.outbox.mark_sent = crash  # type: ignore[method-assign]
        else:
            object.__setattr__(desk.telegram.sender._outgoing, "deliver", crash)  # noqa: SLF001
        signal_ = await _post(url, clock.now)
        await asyncio.wait_for(crashed.wait(), 10)
    delivered_before = _cards(emulator, TRADERS[0], signal_)
    assert delivered_before == (1 if crash_point == "after_telegram_answered" else 0)

    async with open_desk(settings, clock=clock) as desk, serve_http(desk.http_app, "127.0.0.1", 0) as url:
        # A chat's messages go out strictly in order, so once a later card arrives the interrupted one
        # has been resolved, and any duplicate of it would already be there.
        sentinel = await _post(url, clock.now, version=2)
        await card_for(emulator, TRADERS[0], sentinel)
    assert _cards(emulator, TRADERS[0], signal_) == 1


@pytest.fixture
async def slow_emulator() -> Any:
    async with BotApiEmulator(EmulatorState(limits=RateLimits(global_per_second=40, per_chat_per_second=4))) as telegram:
        yield telegram


async def test_sigkill_while_cards_are_in_the_outbox_then_restart_delivers_each_exactly_once(
    slow_emulator: BotApiEmulator, tmp_path: Path
) -> None:
    emulator = slow_emulator
    traders = [7001, 7002, 7003, 7004]
    env = {
        **os.environ,
        "SIGNALDESK_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}",
        "SIGNALDESK_HTTP__PORT": "0",
        "SIGNALDESK_SIGNALS__RATE_PER_SECOND": "0",
        "SIGNALDESK_PRODUCERS": json.dumps([{"id": "alpha", "secrets": ["alpha-secret-0123456789"]}]),
        "SIGNALDESK_TELEGRAM__TOKEN": emulator.token,
        "SIGNALDESK_TELEGRAM__API_BASE": emulator.base_url,
        "SIGNALDESK_TELEGRAM__TRADERS": json.dumps(traders),
        "SIGNALDESK_TELEGRAM__RATE_GLOBAL_PER_SECOND": "40",
        "SIGNALDESK_TELEGRAM__RATE_CHAT_PER_SECOND": "4",
    }
    from datetime import UTC, datetime

    def now() -> datetime:
        return datetime.now(UTC)

    first = await start_serve(env=env)
    url = await served_url(first)
    signals = [await _post(url, now, version=i + 1, external_id=f"k-{i}") for i in range(12)]
    total = len(signals) * len(traders)
    # Kill once about a third has gone out: the rest is in the outbox, some of it mid-delivery.
    await emulator.wait_until(lambda: sum(len(emulator.messages(t)) for t in traders) >= total // 3, timeout=30)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    delivered_at_kill = sum(len(emulator.messages(t)) for t in traders)
    assert delivered_at_kill < total, "everything went out before the kill: nothing was tested"

    second = await start_serve(env=env)
    try:
        url = await served_url(second)
        # Each chat is strictly ordered: when this last card arrives everywhere, everything before it
        # has been resolved, and a duplicate would already have landed.
        sentinel = await _post(url, now, version=99, external_id="sentinel")
        for trader in traders:
            await card_for(emulator, trader, sentinel)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
    for trader in traders:
        assert [_cards(emulator, trader, s) for s in signals] == [1] * len(signals), f"trader {trader}"
