"""Sending charts as photos: a chart's PNG is uploaded once, later sends reuse Telegram's file_id."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from charts import ChartPhoto, ChartRenderer


class ChartPhotoSender:
    """The first send of a chart uploads its bytes; sends that overlap that upload (the same card going to
    many traders at once) wait for it and then send the file_id it returned, so a chart is uploaded once
    for as long as the chart cache keeps it. If the upload fails, the next sender uploads instead."""

    def __init__(self, bot: Bot, renderer: ChartRenderer) -> None:
        self._bot = bot
        self._renderer = renderer
        self._uploading: dict[str, asyncio.Future[None]] = {}

    async def send(
        self, chat_id: int, photo: ChartPhoto, *, caption: str, reply_markup: InlineKeyboardMarkup | None
    ) -> Message:
        while (file_id := self._renderer.upload_for(photo.key)) is None:
            uploading = self._uploading.get(photo.key)
            if uploading is None:
                return await self._upload(chat_id, photo, caption, reply_markup)
            await asyncio.shield(uploading)  # shielded: one waiter giving up must not end the wait of others
        return await self._bot.send_photo(chat_id, file_id, caption=caption, reply_markup=reply_markup)

    async def _upload(
        self, chat_id: int, photo: ChartPhoto, caption: str, reply_markup: InlineKeyboardMarkup | None
    ) -> Message:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._uploading[photo.key] = done
        try:
            upload = BufferedInputFile(photo.png, filename="chart.png")
            message = await self._bot.send_photo(chat_id, upload, caption=caption, reply_markup=reply_markup)
            if message.photo:  # the largest size is the original; any of them can be sent again
                self._renderer.remember_upload(photo.key, message.photo[-1].file_id)
            return message
        finally:
            del self._uploading[photo.key]
            done.set_result(None)


def with_notes(caption: str, notes: Sequence[str]) -> str:
    """The caption with what the chart could not draw (short history, skipped values), in italics."""
    return caption + "".join(f"\n<i>{escape(note)}</i>" for note in notes)
