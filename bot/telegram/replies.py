"""Replies to users go through the outbox like everything else: stored first, sent within the limits.
When the database itself is down the reply goes straight to Telegram, so the user still hears why."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.sender import OutboxSender
from core.clock import Clock
from core.errors import StorageUnavailable
from storage.outbox_store import SqlOutbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Replies:
    outbox: SqlOutbox
    sender: OutboxSender
    clock: Clock
    bot: Bot

    async def send(self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        stored = None if keyboard is None else keyboard.model_dump(mode="json", exclude_none=True)
        try:
            await self.outbox.queue_text(chat_id, text, self.clock.now(), stored)
        except StorageUnavailable:
            log.warning("event=reply_bypassed_outbox reason=storage_unavailable chat_id=%d", chat_id)
            await self.bot.send_message(chat_id, text, reply_markup=keyboard)
            return
        self.sender.wake()

    async def send_chart(self, chat_id: int, chart: str, account_id: str) -> None:
        """A chart of `account_id` (see SqlOutbox.queue_chart), drawn when it is sent."""
        try:
            await self.outbox.queue_chart(chat_id, chart, account_id, self.clock.now())
        except StorageUnavailable:
            log.warning("event=chart_not_queued reason=storage_unavailable chat_id=%d", chat_id)
            await self.bot.send_message(chat_id, "The desk's database is unavailable, so there is nothing to chart; try again in a minute.")
            return
        self.sender.wake()
