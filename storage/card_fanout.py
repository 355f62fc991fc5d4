"""Turning newly accepted signals into card messages for every recipient, exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from storage.batch_runner import BatchRunner
from storage.models import SignalRow, TelegramChatRow
from storage.outbox_queue import CARD, queue_message

_SIGNALS = SignalRow.__table__
_CHATS = TelegramChatRow.__table__


class SqlCardFanout:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def fan_out(
        self, *, traders: frozenset[int], viewers: frozenset[int], created_after: datetime, now: datetime, limit: int = 100
    ) -> list[str]:
        """Queue cards for signals not yet fanned out (newer than `created_after`); returns their ids.
        The claim is a conditional UPDATE, so two workers never queue the same signal's cards twice."""
        return await self._runner.run(lambda conn: _fan_out(conn, traders, viewers - traders, created_after, now, limit))


def _fan_out(conn: Connection, traders: frozenset[int], viewers: frozenset[int], created_after: datetime, now: datetime, limit: int) -> list[str]:
    if not traders and not viewers:
        return []
    candidates = list(
        conn.execute(
            select(_SIGNALS.c.id).where(_SIGNALS.c.fanned_out.is_(False), _SIGNALS.c.created_at >= created_after)
            .order_by(_SIGNALS.c.id).limit(limit)
        ).scalars()
    )
    if not candidates:
        return []
    claimed = sorted(
        conn.execute(
            update(_SIGNALS).where(_SIGNALS.c.id.in_(candidates), _SIGNALS.c.fanned_out.is_(False))
            .values(fanned_out=True).returning(_SIGNALS.c.id)
        ).scalars()
    )
    muted = {
        row.chat_id: row
        for row in conn.execute(select(_CHATS).where(or_(_CHATS.c.blocked.is_(True), _CHATS.c.paused.is_(True))))
    }
    active_traders = [t for t in sorted(traders) if t not in muted]
    active_viewers = [v for v in sorted(viewers) if v not in muted or not muted[v].blocked]
    for signal_id in claimed:
        for chat_id in active_traders:
            queue_message(conn, chat_id, CARD, now, signal_id=signal_id, data={"buttons": True})
        for chat_id in active_viewers:
            queue_message(conn, chat_id, CARD, now, signal_id=signal_id, data={"buttons": False})
    return claimed
