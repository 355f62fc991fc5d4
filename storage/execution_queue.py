"""The execution queue: approvals waiting to become orders, kept on the `decisions` rows themselves.

An approval is claimable while it is pending or waiting and due, or claimed by a worker whose lease ran
out. The claim is one conditional UPDATE that re-checks those conditions, so of two workers racing for a
row only one changes it; on PostgreSQL the candidates are also locked with SKIP LOCKED so the racers take
different rows instead of queueing behind each other. Every later step is conditioned on the claim still
being the caller's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from core.execution import ExecutionEnd, PendingExecution
from core.forward_policy import ForwardEvent
from core.orders import Order
from core.signals import SignalStatus
from storage.audit_log import append_audit
from storage.batch_runner import BatchRunner
from storage.forward_queue import queue_forwards
from storage.models import DecisionRow, SignalRow
from storage.signal_rows import signal_from_row

_DECISIONS = DecisionRow.__table__
_SIGNALS = SignalRow.__table__

PENDING = "pending"  # due at due_at
WAITING = "waiting"  # pending, and the trader was told it waits for a quote
CLAIMED = "claimed"  # a worker holds it until due_at
PLACED = "placed"
_OPEN = (PENDING, WAITING)


class SqlExecutionQueue:
    def __init__(self, runner: BatchRunner, forward_targets: Sequence[str] = ()) -> None:
        self._runner = runner
        self._forward_targets = tuple(forward_targets)  # urls of the forward targets of executed signals

    async def claim(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[PendingExecution]:
        return await self._runner.run(lambda conn: _claim(conn, worker, now, now + lease, limit))

    async def placed(self, item: PendingExecution, worker: str, order: Order, now: datetime) -> bool:
        return await self._runner.run(lambda conn: _placed(conn, item, worker, order, now, self._forward_targets))

    async def ended(self, item: PendingExecution, worker: str, end: ExecutionEnd, note: str, now: datetime) -> bool:
        return await self._runner.run(lambda conn: _ended(conn, item, worker, end, note, now))

    async def retry_later(
        self, item: PendingExecution, worker: str, due: datetime, note: str, *, broker_failure: bool, waiting: bool = False
    ) -> bool:
        values: dict[str, Any] = {
            "execution": WAITING if waiting else PENDING, "due_at": due, "claimed_by": None, "execution_note": note[:300],
        }
        if broker_failure:
            values["attempts"] = _DECISIONS.c.attempts + 1
        return await self._runner.run(lambda conn: _release(conn, item, worker, values))


def _claimable(now: datetime) -> Any:
    return and_(_DECISIONS.c.execution.in_((*_OPEN, CLAIMED)), _DECISIONS.c.due_at <= now)


def _claim(conn: Connection, worker: str, now: datetime, until: datetime, limit: int) -> list[PendingExecution]:
    candidates = conn.execute(
        select(_DECISIONS.c.id, _DECISIONS.c.execution)
        .where(_claimable(now))
        .order_by(_DECISIONS.c.due_at, _DECISIONS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite has one writer anyway
    ).all()
    if not candidates:
        return []
    claimed = conn.execute(
        update(_DECISIONS)
        .where(_DECISIONS.c.id.in_([row.id for row in candidates]), _claimable(now))
        .values(execution=CLAIMED, claimed_by=worker, due_at=until)
        .returning(_DECISIONS.c.id, _DECISIONS.c.signal_id, _DECISIONS.c.trader_id, _DECISIONS.c.decided_at, _DECISIONS.c.attempts)
    ).all()
    was_waiting = {row.id for row in candidates if row.execution == WAITING}
    signal_ids = {row.signal_id for row in claimed}
    signals = {row.id: signal_from_row(row) for row in conn.execute(select(_SIGNALS).where(_SIGNALS.c.id.in_(signal_ids)))}
    items = [
        PendingExecution(row.id, signals[row.signal_id], row.trader_id, row.decided_at, row.attempts, row.id in was_waiting)
        for row in claimed
    ]
    return sorted(items, key=lambda item: item.decision_id)


def _held(item: PendingExecution, worker: str) -> Any:
    return and_(_DECISIONS.c.id == item.decision_id, _DECISIONS.c.execution == CLAIMED, _DECISIONS.c.claimed_by == worker)


def _release(conn: Connection, item: PendingExecution, worker: str, values: dict[str, Any]) -> bool:
    return conn.execute(update(_DECISIONS).where(_held(item, worker)).values(values)).rowcount == 1


def _placed(
    conn: Connection, item: PendingExecution, worker: str, order: Order, now: datetime, forward_targets: tuple[str, ...]
) -> bool:
    if not _release(conn, item, worker, {"execution": PLACED, "order_id": order.id, "executed_at": now, "execution_note": None}):
        return False
    # The first order placed for a signal makes it executed; later approvals of it still execute.
    first = conn.execute(
        update(_SIGNALS)
        .where(_SIGNALS.c.id == item.signal.id, _SIGNALS.c.status == SignalStatus.APPROVED.value)
        .values(status=SignalStatus.EXECUTED.value, updated_at=now)
    ).rowcount == 1
    if first:
        queue_forwards(conn, ForwardEvent.EXECUTED, forward_targets, [(item.signal.id, now)])
    append_audit(conn, now, "order_placed", {
        "signal_id": item.signal.id, "trader_id": item.trader_id, "order_id": order.id,
        "account_id": order.request.account_id, "idempotency_key": order.request.idempotency_key,
    })
    return True


def _ended(conn: Connection, item: PendingExecution, worker: str, end: ExecutionEnd, note: str, now: datetime) -> bool:
    if not _release(conn, item, worker, {"execution": end.value, "executed_at": now, "execution_note": note[:300]}):
        return False
    append_audit(conn, now, f"execution_{end.value}", {"signal_id": item.signal.id, "trader_id": item.trader_id, "reason": note})
    return True

