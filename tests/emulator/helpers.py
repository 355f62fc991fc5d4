"""Shared pieces of the emulator tests: a Bot wired to the emulator, a keyboard, a PNG."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

TRADER = 111


@asynccontextmanager
async def connected_bot(base_url: str, token: str) -> AsyncIterator[Bot]:
    """A Bot reaching the emulator as it would reach a self-hosted Bot API server."""
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    try:
        yield bot
    finally:
        # AiohttpSession.close() waits 250 ms for TLS connections; there are none here.
        await (await bot.session.create_session()).close()  # type: ignore[attr-defined]


class Decision(CallbackData, prefix="decide"):
    signal_id: int
    action: str


def decision_keyboard(signal_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=action.title(),
            callback_data=Decision(signal_id=signal_id, action=action).pack(),
        )
        for action in ("approve", "reject")
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


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
