"""Queuing outgoing Telegram messages inside a caller's transaction (the transactional outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from storage.models import OutboxRow

# What a row asks the sender to do; the sender renders it from current data at send time.
CARD = "card"  # send a signal card (data: buttons)
CARD_REFRESH = "card_refresh"  # edit a sent card to show the signal's current state
TEXT = "text"  # send a text message (data: text, and keyboard for a prompt with buttons)
CHART = "chart"  # send a chart of an account as a photo, or as text when there is none (data: chart, account)
SENDING_INTENTS = (CARD, TEXT, CHART)  # intents that create a message (an edit does not)


def queue_message(
    conn: Connection, chat_id: int, intent: str, now: datetime, *, signal_id: str | None = None, data: dict[str, Any] | None = None
) -> None:
    conn.execute(
        OutboxRow.__table__.insert().values(
            chat_id=chat_id, intent=intent, data=data or {}, signal_id=signal_id, state="pending",
            attempts=0, not_before=now, created_at=now,
        )
    )
