"""The Telegram side of `core.notify.TraderNotifier`: each note rendered and queued in the durable outbox for
the chats of the traders it concerns (chat id = user id), so a restart or an outage loses none."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from aiogram.exceptions import TelegramAPIError

from bot.telegram.render_trading import render_drawdown_note, render_execution_note, render_trade_event
from bot.telegram.replies import Replies
from core.accounts import AccountMap
from core.notify import DrawdownNote, ExecutionNote
from core.trades import TradeEvent

log = logging.getLogger(__name__)


class TelegramNotifier:
    def __init__(self, replies: Replies, accounts: AccountMap) -> None:
        self._replies = replies
        self._accounts = accounts

    async def execution(self, note: ExecutionNote) -> None:
        await self._tell([note.trader_id], render_execution_note(note), f"execution_{note.kind.value}")

    async def trade_events(self, events: Sequence[TradeEvent]) -> None:
        for event in events:
            owners = self._accounts.owners(event.order.request.account_id)
            await self._tell(owners, render_trade_event(event), f"trade_{event.kind.value}")

    async def drawdown(self, note: DrawdownNote) -> None:
        kind = "drawdown_breach" if note.breached else "drawdown_recovery"
        await self._tell(self._accounts.owners(note.account_id), render_drawdown_note(note), kind)

    async def _tell(self, chat_ids: Iterable[int], text: str, kind: str) -> None:
        for chat_id in sorted(chat_ids):
            try:
                await self._replies.send(chat_id, text)
            except TelegramAPIError as exc:  # outbox down and the direct send failed too: the caller's work stands
                log.error("event=trader_note_lost kind=%s chat_id=%d error=%s", kind, chat_id, type(exc).__name__)
