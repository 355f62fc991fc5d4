"""Turning an outbox row into the Bot API call that delivers it, rendered from current data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.chart_messages import ChartMessages
from bot.telegram.render import CardView, Rendered, render_signal_card
from core.instruments import InstrumentTable
from core.signals import Signal
from storage.desk_queries import SqlDeskQueries
from storage.outbox_queue import CARD, CARD_REFRESH, CHART, TEXT
from storage.outbox_store import OutboxItem


@dataclass(frozen=True)
class Outgoing:
    bot: Bot
    queries: SqlDeskQueries
    instruments: InstrumentTable
    approval_ttl: timedelta
    charts: ChartMessages

    async def deliver(self, item: OutboxItem) -> int | None:
        """Make the call; returns the new message's id (None for an edit, or when nothing is left to do)."""
        if item.intent == TEXT:
            return (await self.bot.send_message(item.chat_id, item.data["text"], reply_markup=_keyboard(item))).message_id
        if item.intent == CHART:
            return await self.charts.send_account_chart(item)
        card = await self._card(item)
        if card is None:
            return None
        signal, rendered = card
        if item.intent == CARD:
            return await self.charts.send_card(item, signal, rendered)
        if item.intent == CARD_REFRESH:
            await self.charts.edit_card(item, rendered)
            return None
        raise ValueError(f"unknown outbox intent {item.intent!r}")

    async def render(self, item: OutboxItem) -> Rendered | None:
        if item.intent == TEXT:
            return Rendered(item.data["text"], _keyboard(item))
        if item.intent == CHART:
            return None  # an account chart has no keyboard, and is drawn only when it is sent
        card = await self._card(item)
        return card[1] if card is not None else None

    async def _card(self, item: OutboxItem) -> tuple[Signal, Rendered] | None:
        state = await self.queries.card_state(item.signal_id or "", item.chat_id)
        if state is None:
            return None
        signal, decision, closed = state
        buttons = bool(item.data.get("buttons", True))
        return signal, render_signal_card(CardView(signal, decision, closed, buttons), self.instruments, self.approval_ttl)

    async def markup_of(self, item: OutboxItem) -> InlineKeyboardMarkup | None:
        rendered = await self.render(item)
        return rendered.keyboard if rendered else None


def _keyboard(item: OutboxItem) -> InlineKeyboardMarkup | None:
    keyboard = item.data.get("keyboard")
    return None if keyboard is None else InlineKeyboardMarkup.model_validate(keyboard)
