"""Turning an outbox row into the Bot API call that delivers it, rendered from current data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.render import CardView, Rendered, render_signal_card
from core.instruments import InstrumentTable
from storage.desk_queries import SqlDeskQueries
from storage.outbox_queue import CARD, CARD_REFRESH, TEXT
from storage.outbox_store import OutboxItem, SqlOutbox


@dataclass(frozen=True)
class Outgoing:
    bot: Bot
    queries: SqlDeskQueries
    outbox: SqlOutbox
    instruments: InstrumentTable
    approval_ttl: timedelta

    async def deliver(self, item: OutboxItem) -> int | None:
        """Make the call; returns the new message's id (None for an edit, or when nothing is left to do)."""
        if item.intent == TEXT:
            return (await self.bot.send_message(item.chat_id, item.data["text"], reply_markup=_keyboard(item))).message_id
        rendered = await self.render(item)
        if rendered is None:
            return None
        if item.intent == CARD:
            return (await self.bot.send_message(item.chat_id, rendered.text, reply_markup=rendered.keyboard)).message_id
        if item.intent == CARD_REFRESH:
            message_id = await self.outbox.card_message_id(item.signal_id or "", item.chat_id)
            if message_id is not None:  # None: the card itself never went out (e.g. the user blocked the bot)
                await self.bot.edit_message_text(
                    text=rendered.text, chat_id=item.chat_id, message_id=message_id, reply_markup=rendered.keyboard
                )
            return None
        raise ValueError(f"unknown outbox intent {item.intent!r}")

    async def render(self, item: OutboxItem) -> Rendered | None:
        if item.intent == TEXT:
            return Rendered(item.data["text"], _keyboard(item))
        state = await self.queries.card_state(item.signal_id or "", item.chat_id)
        if state is None:
            return None
        signal, decision, closed = state
        buttons = bool(item.data.get("buttons", True))
        return render_signal_card(CardView(signal, decision, closed, buttons), self.instruments, self.approval_ttl)

    async def markup_of(self, item: OutboxItem) -> InlineKeyboardMarkup | None:
        rendered = await self.render(item)
        return rendered.keyboard if rendered else None


def _keyboard(item: OutboxItem) -> InlineKeyboardMarkup | None:
    keyboard = item.data.get("keyboard")
    return None if keyboard is None else InlineKeyboardMarkup.model_validate(keyboard)
