"""The TraderNotifier when Telegram is off (the API runs alone): what the traders would be told is logged."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.notify import DrawdownNote, ExecutionNote
from core.trades import TradeEvent

log = logging.getLogger("signaldesk.trader_notes")


class LogTraderNotifier:
    async def execution(self, note: ExecutionNote) -> None:
        log.info(
            "event=execution_note kind=%s trader=%d signal=%s detail=%r",
            note.kind.value, note.trader_id, note.signal.id, note.detail,
        )

    async def trade_events(self, events: Sequence[TradeEvent]) -> None:
        for event in events:
            reason = event.position.close_reason if event.position is not None else None
            log.info(
                "event=trade_event kind=%s account=%s order=%s reason=%s",
                event.kind.value, event.order.request.account_id, event.order.id, reason,
            )

    async def drawdown(self, note: DrawdownNote) -> None:
        log.warning(
            "event=drawdown_note account=%s breached=%s drawdown=%s cap=%s cancelled=%d closed=%d",
            note.account_id, note.breached, note.drawdown, note.cap, note.cancelled, len(note.closed),
        )
