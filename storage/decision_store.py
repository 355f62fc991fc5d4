"""Decisions and the approval window: each change, its audit entry and its card updates commit together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.engine import Connection

from core.approvals import Decision, DecisionRecorded, DecisionRequest
from core.errors import AlreadyDecided, DecisionClosed, SignalNotFound
from core.orders import OrderStatus
from core.signals import SignalStatus
from storage.audit_log import append_audit
from storage.batch_runner import BatchRunner
from storage.execution_queue import CLAIMED, PENDING, PLACED, WAITING
from storage.models import DecisionRow, OutboxRow, SignalRow, TradeOrderRow
from storage.outbox_queue import CARD, CARD_REFRESH, queue_message
from storage.signal_rows import signal_from_row
from storage.upsert import insert_for

_SIGNALS = SignalRow.__table__
_DECISIONS = DecisionRow.__table__
# An executed signal stays open to the other traders' approvals until its window closes.
_DECIDABLE = (SignalStatus.NEW.value, SignalStatus.APPROVED.value, SignalStatus.EXECUTED.value)
_ORDERS = TradeOrderRow.__table__
_EXECUTING = (PENDING, WAITING, CLAIMED)
_ORDER_DONE = (OrderStatus.CLOSED.value, OrderStatus.CANCELLED.value)


class SqlDecisionStore:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def record_decision(self, request: DecisionRequest, *, traders: frozenset[int], open_since: datetime) -> DecisionRecorded:
        return await self._runner.run(lambda conn: _record(conn, request, len(traders), open_since))

    async def expire_undecided(self, created_before: datetime, now: datetime) -> list[str]:
        return await self._runner.run(lambda conn: _close_window(conn, created_before, now))

    async def settle_finished(self, created_before: datetime, now: datetime) -> list[tuple[str, SignalStatus]]:
        return await self._runner.run(lambda conn: _settle(conn, created_before, now))


def _record(conn: Connection, r: DecisionRequest, trader_count: int, open_since: datetime) -> DecisionRecorded:
    signal = conn.execute(select(_SIGNALS).where(_SIGNALS.c.id == r.signal_id)).one_or_none()
    if signal is None:
        raise SignalNotFound(f"no signal {r.signal_id}")
    if signal.created_at < open_since or signal.status not in _DECIDABLE:
        raise DecisionClosed(f"signal {r.signal_id} is {signal.status if signal.status not in _DECIDABLE else 'past its approval window'}")
    inserted = conn.execute(
        insert_for(conn, _DECISIONS)
        .values(signal_id=r.signal_id, trader_id=r.trader_id, chat_id=r.chat_id, decision=r.decision.value,
                consent_version=r.consent_version, decided_at=r.at,
                # An approval joins the execution queue in the same transaction: it cannot be lost.
                execution=PENDING if r.decision is Decision.APPROVE else None,
                due_at=r.at if r.decision is Decision.APPROVE else None)
        .on_conflict_do_nothing()
        .returning(_DECISIONS.c.id)
    ).first()
    if inserted is None:
        earlier = conn.execute(
            select(_DECISIONS.c.decision).where(_DECISIONS.c.signal_id == r.signal_id, _DECISIONS.c.trader_id == r.trader_id)
        ).scalar_one()
        raise AlreadyDecided(earlier)
    status = _apply_decision(conn, r, trader_count)
    if status not in _DECIDABLE + (SignalStatus.REJECTED.value,):
        # The window closed between our read and our write (e.g. the expiry job won): undo by raising.
        raise DecisionClosed(f"signal {r.signal_id} is {status}")
    append_audit(conn, r.at, "decision", {
        "signal_id": r.signal_id, "trader_id": r.trader_id, "chat_id": r.chat_id,
        "decision": r.decision.value, "consent_version": r.consent_version,
    })
    queue_message(conn, r.chat_id, CARD_REFRESH, r.at, signal_id=r.signal_id)
    row = conn.execute(select(_SIGNALS).where(_SIGNALS.c.id == r.signal_id)).one()
    return DecisionRecorded(signal_from_row(row), r.decision)


def _apply_decision(conn: Connection, r: DecisionRequest, trader_count: int) -> str:
    """Move the signal's status: the first approval approves it; it is rejected once every trader rejected."""
    if r.decision is Decision.APPROVE:
        _move(conn, r.signal_id, SignalStatus.NEW, SignalStatus.APPROVED, r.at)
    else:
        rejections = conn.execute(
            select(func.count()).where(_DECISIONS.c.signal_id == r.signal_id, _DECISIONS.c.decision == Decision.REJECT.value)
        ).scalar_one()
        if rejections >= trader_count:
            _move(conn, r.signal_id, SignalStatus.NEW, SignalStatus.REJECTED, r.at)
    return conn.execute(select(_SIGNALS.c.status).where(_SIGNALS.c.id == r.signal_id)).scalar_one()


def _move(conn: Connection, signal_id: str, current: SignalStatus, target: SignalStatus, at: datetime) -> None:
    conn.execute(
        update(_SIGNALS).where(_SIGNALS.c.id == signal_id, _SIGNALS.c.status == current.value).values(status=target.value, updated_at=at)
    )


def _close_window(conn: Connection, created_before: datetime, now: datetime) -> list[str]:
    closing = conn.execute(
        update(_SIGNALS)
        .where(_SIGNALS.c.cards_closed.is_(False), _SIGNALS.c.created_at < created_before)
        .values(cards_closed=True)
        .returning(_SIGNALS.c.id, _SIGNALS.c.status)
    ).all()
    expired = sorted(row.id for row in closing if row.status == SignalStatus.NEW.value)
    if expired:
        conn.execute(
            update(_SIGNALS).where(_SIGNALS.c.id.in_(expired), _SIGNALS.c.status == SignalStatus.NEW.value)
            .values(status=SignalStatus.EXPIRED.value, updated_at=now)
        )
    for signal_id in sorted(row.id for row in closing):
        _refresh_undecided_cards(conn, signal_id, now)
        if signal_id in expired:
            append_audit(conn, now, "signal_expired", {"signal_id": signal_id})
    return expired


def _refresh_undecided_cards(conn: Connection, signal_id: str, now: datetime) -> None:
    outbox = OutboxRow.__table__
    card_chats = set(conn.execute(select(outbox.c.chat_id).where(outbox.c.signal_id == signal_id, outbox.c.intent == CARD)).scalars())
    decided = set(conn.execute(select(_DECISIONS.c.chat_id).where(_DECISIONS.c.signal_id == signal_id)).scalars())
    for chat_id in sorted(card_chats - decided):
        queue_message(conn, chat_id, CARD_REFRESH, now, signal_id=signal_id)


def _settle(conn: Connection, created_before: datetime, now: datetime) -> list[tuple[str, SignalStatus]]:
    """Each move is one conditional UPDATE, so a signal settles once however many instances run this.

    Only the paper book is in this database: an order it does not hold (MetaTrader 5) never counts as done,
    so a signal executed there stays `executed`."""
    decisions_of_signal = _DECISIONS.c.signal_id == _SIGNALS.c.id
    executing = exists().where(decisions_of_signal, _DECISIONS.c.execution.in_(_EXECUTING))
    placed = exists().where(decisions_of_signal, _DECISIONS.c.execution == PLACED)
    order_done = exists().where(_ORDERS.c.id == _DECISIONS.c.order_id, _ORDERS.c.status.in_(_ORDER_DONE))
    order_live = exists().where(decisions_of_signal, _DECISIONS.c.execution == PLACED, ~order_done)
    settled: list[tuple[str, SignalStatus]] = []
    for current, target, busy in (
        (SignalStatus.APPROVED, SignalStatus.CANCELLED, executing | placed),
        (SignalStatus.EXECUTED, SignalStatus.CLOSED, executing | order_live),
    ):
        moved = conn.execute(
            update(_SIGNALS)
            .where(_SIGNALS.c.status == current.value, _SIGNALS.c.created_at < created_before, ~busy)
            .values(status=target.value, updated_at=now)
            .returning(_SIGNALS.c.id)
        ).scalars().all()
        settled += [(signal_id, target) for signal_id in sorted(moved)]
    for signal_id, status in settled:
        append_audit(conn, now, f"signal_{status.value}", {"signal_id": signal_id})
    return settled
