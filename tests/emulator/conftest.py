"""A running emulator and a real aiogram Bot wired to it the way production wires a
self-hosted Bot API server: ``AiohttpSession(api=TelegramAPIServer.from_base(base_url))``."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.emulator import BotApiEmulator, EmulatorState, RateLimits

TRADER = 111


@pytest.fixture
async def telegram() -> AsyncIterator[BotApiEmulator]:
    """Limits off: tests of the limits switch them on themselves."""
    async with BotApiEmulator(EmulatorState(limits=RateLimits.unlimited())) as emulator:
        yield emulator


@pytest.fixture
async def bot(telegram: BotApiEmulator) -> AsyncIterator[Bot]:
    async with connected_bot(telegram.base_url, telegram.token) as client:
        yield client


@asynccontextmanager
async def connected_bot(base_url: str, token: str) -> AsyncIterator[Bot]:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    try:
        yield bot
    finally:
        # AiohttpSession.close() waits 250 ms for TLS connections; there are none here.
        await (await bot.session.create_session()).close()  # type: ignore[attr-defined]


def png_bytes(width: int, height: int) -> bytes:
    """A valid greyscale PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
