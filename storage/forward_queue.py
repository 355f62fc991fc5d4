"""The forward queue: one row per (target, event, signal), written in the transaction that makes the event
happen (ingest's batch, the first order's placement), so a committed event is never without its deliveries.

Claiming is one conditional UPDATE that re-checks due-ness, as for executions (storage/execution_queue.py):
of two workers racing for a row only one changes it; on PostgreSQL SKIP LOCKED sends them to different rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from core.forward_policy import ForwardEvent, ForwardItem
from storage.batch_runner import BatchRunner
from storage.models import ForwardRow, SignalRow
from storage.signal_rows import signal_from_row

_FORWARDS = ForwardRow.__table__
_SIGNALS = SignalRow.__table__

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"


def queue_forwards(conn: Connection, event: ForwardEvent, targets: Sequence[str], signals: Sequence[tuple[str, datetime]]) -> None:
    """Queue (signal id, time of the event) for every target, due at once, in the caller's transaction."""
    rows = [
        {"target": target, "event": event.value, "signal_id": signal_id, "state": PENDING, "attempts": 0, "due_at": at, "queued_at": at}
        for signal_id, at in signals
        for target in targets
    ]
    if rows:
        conn.execute(insert(_FORWARDS), rows)


class SqlForwardQueue:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def claim(self, worker: str, targets: Sequence[str], now: datetime, lease: timedelta, limit: int) -> list[ForwardItem]:
        if not targets:
            return []
        return await self._runner.run(lambda conn: _claim(conn, worker, list(targets), now, now + lease, limit))

    async def delivered(self, item: ForwardItem, worker: str, now: datetime) -> bool:
        return await self._release(item, worker, {"state": DELIVERED, "done_at": now, "last_error": None})

    async def retry_at(self, item: ForwardItem, worker: str, due: datetime, error: str) -> bool:
        return await self._release(item, worker, {"state": PENDING, "due_at": due, "last_error": error[:300]})

    async def failed(self, item: ForwardItem, worker: str, now: datetime, error: str) -> bool:
        return await self._release(item, worker, {"state": FAILED, "done_at": now, "last_error": error[:300]})

    async def _release(self, item: ForwardItem, worker: str, values: dict[str, Any]) -> bool:
        """Record an attempt's outcome, only while the claim is still this worker's (False: the lease was lost)."""
        held = and_(_FORWARDS.c.id == item.id, _FORWARDS.c.state == SENDING, _FORWARDS.c.claimed_by == worker)
        statement = update(_FORWARDS).where(held).values(claimed_by=None, **values)
        return await self._runner.run(lambda conn: conn.execute(statement).rowcount == 1)


def _claimable(targets: list[str], now: datetime) -> Any:
    return and_(_FORWARDS.c.state.in_((PENDING, SENDING)), _FORWARDS.c.due_at <= now, _FORWARDS.c.target.in_(targets))


def _claim(conn: Connection, worker: str, targets: list[str], now: datetime, until: datetime, limit: int) -> list[ForwardItem]:
    candidates = conn.execute(
        select(_FORWARDS.c.id)
        .where(_claimable(targets, now))
        .order_by(_FORWARDS.c.due_at, _FORWARDS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite has one writer anyway
    ).scalars().all()
    if not candidates:
        return []
    claimed = conn.execute(
        update(_FORWARDS)
        .where(_FORWARDS.c.id.in_(candidates), _claimable(targets, now))
        .values(state=SENDING, claimed_by=worker, due_at=until, attempts=_FORWARDS.c.attempts + 1)
        .returning(_FORWARDS.c.id, _FORWARDS.c.target, _FORWARDS.c.event, _FORWARDS.c.signal_id, _FORWARDS.c.attempts, _FORWARDS.c.queued_at)
    ).all()
    signal_ids = {row.signal_id for row in claimed}
    signals = {row.id: signal_from_row(row) for row in conn.execute(select(_SIGNALS).where(_SIGNALS.c.id.in_(signal_ids)))}
    items = [
        ForwardItem(row.id, row.target, ForwardEvent(row.event), signals[row.signal_id], row.attempts, row.queued_at)
        for row in claimed
    ]
    return sorted(items, key=lambda item: item.id)
