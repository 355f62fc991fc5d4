"""A running emulator and a real aiogram Bot talking to it over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.emulator import BotApiEmulator, EmulatorState, RateLimits
from tests.emulator.helpers import connected_bot


@pytest.fixture
async def telegram() -> AsyncIterator[BotApiEmulator]:
    """Limits off: the tests of the limits switch them on themselves."""
    async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as emulator:
        yield emulator


@pytest.fixture
async def bot(telegram: BotApiEmulator) -> AsyncIterator[Bot]:
    async with connected_bot(telegram.base_url, telegram.token) as client:
        yield client
