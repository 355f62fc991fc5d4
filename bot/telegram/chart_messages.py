"""Messages that carry a chart: signal cards as photos (chart above, card as caption, buttons below) and
account charts. A chart that is missing, late or refused never holds a message back: it goes as text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.account_charts import AccountCharts
from bot.telegram.card_charts import SignalCharts
from bot.telegram.photos import ChartPhotoSender, with_notes
from bot.telegram.render import Rendered
from charts import ChartPhoto, ChartRenderer, Theme
from core.instruments import InstrumentTable
from core.signals import Signal
from core.trading_ports import PriceFeed, TradeStore
from storage.outbox_store import OutboxItem, SqlOutbox

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024  # Telegram's, in UTF-16 code units
PHOTO_NOTES = "photo_notes"  # in a sent card's outbox data: it went as a photo, with these chart notes
_NO_TEXT = "there is no text in the message to edit"


@dataclass(frozen=True)
class ChartSetup:
    renderer: ChartRenderer  # started and closed by the composition root
    theme: Theme
    candle_timeframe: timedelta  # of the candles on signal cards
    drawdown_cap_percent: Decimal  # the line on the equity chart
    currency: str  # the accounts' currency, on the equity and PnL charts


class ChartMessages:
    def __init__(
        self, bot: Bot, outbox: SqlOutbox, setup: ChartSetup, *, prices: PriceFeed | None, trades: TradeStore, instruments: InstrumentTable
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._photos = ChartPhotoSender(bot, setup.renderer)
        self._cards = SignalCharts(
            prices, setup.renderer, instruments, timeframe=setup.candle_timeframe, theme=setup.theme
        )
        self._accounts = AccountCharts(
            trades, setup.renderer, theme=setup.theme, drawdown_cap_percent=setup.drawdown_cap_percent, currency=setup.currency
        )

    async def send_card(self, item: OutboxItem, signal: Signal, card: Rendered) -> int:
        photo = await self._cards.photo_for(signal)
        if photo is not None:
            message_id = await self._send_photo(item.chat_id, photo, with_notes(card.text, photo.notes), card.keyboard)
            if message_id is not None:
                # Edits of the card (decision, expiry) must change the caption and keep the chart's notes.
                await self._outbox.remember_data(item, {**item.data, PHOTO_NOTES: list(photo.notes)})
                return message_id
        return (await self._bot.send_message(item.chat_id, card.text, reply_markup=card.keyboard)).message_id

    async def edit_card(self, item: OutboxItem, card: Rendered) -> None:
        sent = await self._outbox.sent_card(item.signal_id or "", item.chat_id)
        if sent is None:  # the card itself never went out (e.g. the user blocked the bot)
            return
        message_id, data = sent
        notes: list[str] | None = data.get(PHOTO_NOTES)
        if notes is None:
            try:
                await self._bot.edit_message_text(
                    text=card.text, chat_id=item.chat_id, message_id=message_id, reply_markup=card.keyboard
                )
                return
            except TelegramBadRequest as exc:
                if _NO_TEXT not in exc.message:
                    raise
                notes = []  # a photo card whose delivery a restart confirmed: its notes were not recorded
        await self._bot.edit_message_caption(
            caption=with_notes(card.text, notes), chat_id=item.chat_id, message_id=message_id, reply_markup=card.keyboard
        )

    async def send_account_chart(self, item: OutboxItem) -> int:
        chart = await self._accounts.message(item.data["chart"], item.data["account"])
        if chart.photo is not None:
            message_id = await self._send_photo(item.chat_id, chart.photo, chart.caption, None)
            if message_id is not None:
                return message_id
        return (await self._bot.send_message(item.chat_id, chart.caption)).message_id

    async def _send_photo(
        self, chat_id: int, photo: ChartPhoto, caption: str, keyboard: InlineKeyboardMarkup | None
    ) -> int | None:
        """The photo's message id; None when it cannot go as a photo (the caller sends text instead)."""
        if _utf16_length(caption) > CAPTION_LIMIT:
            log.warning("event=chart_caption_too_long chat_id=%d length=%d", chat_id, len(caption))
            return None
        try:
            return (await self._photos.send(chat_id, photo, caption=caption, reply_markup=keyboard)).message_id
        except TelegramBadRequest as exc:  # the photo itself refused; anything about the chat recurs with text
            log.warning("event=chart_photo_refused chat_id=%d error=%s", chat_id, exc.message)
            return None


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
