"""The sender's side of the outbox: claim the next message per chat, record the outcome, track chats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from storage.batch_runner import BatchRunner
from storage.models import OutboxRow, TelegramChatRow
from storage.outbox_queue import CHART, TEXT, queue_message
from storage.upsert import insert_for

_OUTBOX = OutboxRow.__table__
_CHATS = TelegramChatRow.__table__


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    intent: str
    data: dict[str, Any]
    signal_id: str | None
    attempts: int


class SqlOutbox:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def claim_ready(self, now: datetime, limit: int, busy_chats: Iterable[int]) -> list[OutboxItem]:
        """Mark `sending` and return the oldest pending message of up to `limit` chats that are not busy
        and whose oldest message is due — never a later one, so each chat keeps its order."""
        busy = frozenset(busy_chats)
        return await self._runner.run(lambda conn: _claim(conn, now, limit, busy))

    async def queue_text(self, chat_id: int, text: str, now: datetime, keyboard: dict[str, Any] | None = None) -> None:
        """`keyboard`: an inline keyboard as Bot API JSON, for prompts that carry buttons."""
        data = {"text": text} if keyboard is None else {"text": text, "keyboard": keyboard}
        await self._runner.run(lambda conn: queue_message(conn, chat_id, TEXT, now, data=data))

    async def queue_chart(self, chat_id: int, chart: str, account_id: str, now: datetime) -> None:
        """A chart of `account_id` (charts' kind: "equity", "pnl"), drawn when it is sent."""
        data = {"chart": chart, "account": account_id}
        await self._runner.run(lambda conn: queue_message(conn, chat_id, CHART, now, data=data))

    async def remember_data(self, item: OutboxItem, data: dict[str, Any]) -> None:
        """Replace the message's data: what later edits of the sent message need to know about it."""
        await self._runner.run(lambda conn: conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == item.id).values(data=data)))

    async def mark_sent(self, item: OutboxItem, message_id: int | None, now: datetime) -> None:
        await self._runner.run(lambda conn: _mark_sent(conn, item, message_id, now))

    async def retry_later(self, item: OutboxItem, not_before: datetime, error: str) -> None:
        await self._runner.run(lambda conn: conn.execute(
            update(_OUTBOX).where(_OUTBOX.c.id == item.id)
            .values(state="pending", attempts=_OUTBOX.c.attempts + 1, not_before=not_before, last_error=error[:200])
        ))

    async def fail(self, item: OutboxItem, error: str) -> None:
        await self._runner.run(lambda conn: conn.execute(
            update(_OUTBOX).where(_OUTBOX.c.id == item.id).values(state="failed", last_error=error[:200])
        ))

    async def block_chat(self, chat_id: int, error: str) -> int:
        """The user blocked the bot: drop what is queued for them; returns how many messages were dropped."""
        return await self._runner.run(lambda conn: _block(conn, chat_id, error))

    async def set_chat_flags(self, chat_id: int, **flags: bool) -> None:
        await self._runner.run(lambda conn: _upsert_chat(conn, chat_id, **flags))

    async def interrupted(self) -> list[OutboxItem]:
        """Messages left `sending` by a previous run: they may or may not have reached Telegram."""
        return await self._runner.run(
            lambda conn: [_item(r) for r in conn.execute(select(_OUTBOX).where(_OUTBOX.c.state == "sending").order_by(_OUTBOX.c.id))]
        )

    async def last_message_id(self, chat_id: int) -> int:
        return await self._runner.run(
            lambda conn: conn.execute(select(_CHATS.c.last_message_id).where(_CHATS.c.chat_id == chat_id)).scalar() or 0
        )

    async def sent_card(self, signal_id: str, chat_id: int) -> tuple[int, dict[str, Any]] | None:
        """The message id and data of the card about `signal_id` in `chat_id`, once it was sent."""
        row = await self._runner.run(lambda conn: conn.execute(
            select(_OUTBOX.c.message_id, _OUTBOX.c.data).where(
                _OUTBOX.c.signal_id == signal_id, _OUTBOX.c.chat_id == chat_id, _OUTBOX.c.intent == "card", _OUTBOX.c.state == "sent"
            )
        ).first())
        return None if row is None or row.message_id is None else (row.message_id, row.data)

    async def depth(self) -> tuple[int, datetime | None]:
        """Messages waiting (pending or sending) and the creation time of the oldest."""
        return await self._runner.run(lambda conn: tuple(conn.execute(
            select(func.count(), func.min(_OUTBOX.c.created_at)).where(_OUTBOX.c.state.in_(("pending", "sending")))
        ).one()))

    async def chat_flags(self, chat_id: int) -> tuple[bool, bool]:
        """(paused, blocked)."""
        row = await self._runner.run(
            lambda conn: conn.execute(select(_CHATS.c.paused, _CHATS.c.blocked).where(_CHATS.c.chat_id == chat_id)).first()
        )
        return (bool(row.paused), bool(row.blocked)) if row else (False, False)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(row.id, row.chat_id, row.intent, row.data, row.signal_id, row.attempts)


def _claim(conn: Connection, now: datetime, limit: int, busy: frozenset[int]) -> list[OutboxItem]:
    oldest = (
        select(func.min(_OUTBOX.c.id).label("id")).where(_OUTBOX.c.state.in_(("pending", "sending"))).group_by(_OUTBOX.c.chat_id)
    ).subquery()
    due = conn.execute(
        select(_OUTBOX.c.id, _OUTBOX.c.chat_id)
        .where(_OUTBOX.c.id.in_(select(oldest.c.id)), _OUTBOX.c.state == "pending", _OUTBOX.c.not_before <= now)
        .order_by(_OUTBOX.c.id)
    ).all()
    ids = [row.id for row in due if row.chat_id not in busy][:limit]
    if not ids:
        return []
    claimed = conn.execute(
        update(_OUTBOX).where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.state == "pending").values(state="sending").returning(*_OUTBOX.c)
    ).all()
    return sorted((_item(r) for r in claimed), key=lambda i: i.id)


def _mark_sent(conn: Connection, item: OutboxItem, message_id: int | None, now: datetime) -> None:
    conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == item.id).values(state="sent", sent_at=now, message_id=message_id, last_error=None))
    if message_id is not None:
        _upsert_chat(conn, item.chat_id, last_message_id=message_id)


def _block(conn: Connection, chat_id: int, error: str) -> int:
    _upsert_chat(conn, chat_id, blocked=True)
    return conn.execute(
        update(_OUTBOX).where(_OUTBOX.c.chat_id == chat_id, _OUTBOX.c.state.in_(("pending", "sending")))
        .values(state="failed", last_error=error[:200])
    ).rowcount


def _upsert_chat(conn: Connection, chat_id: int, **values: Any) -> None:
    defaults = {"chat_id": chat_id, "last_message_id": 0, "blocked": False, "paused": False}
    stmt = insert_for(conn, _CHATS).values({**defaults, **values})
    updates = dict(values)
    if "last_message_id" in values:
        # Message ids only grow; an out-of-order confirmation must not move the mark back.
        updates["last_message_id"] = func.max(_CHATS.c.last_message_id, stmt.excluded.last_message_id) if conn.dialect.name == "sqlite" \
            else func.greatest(_CHATS.c.last_message_id, stmt.excluded.last_message_id)
    conn.execute(stmt.on_conflict_do_update(index_elements=["chat_id"], set_=updates))
