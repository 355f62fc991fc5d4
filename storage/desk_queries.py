"""Read-only questions the bot asks: recent signals, counts, a card's current state, the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audit import AuditEntry
from core.signals import Signal, SignalStatus
from storage.audit_log import read_chain
from storage.execution_queue import CLAIMED, PENDING, WAITING
from storage.models import DecisionRow, HeartbeatRow, SignalRow
from storage.signal_rows import signal_from_row

_SIGNALS = SignalRow.__table__
_DECISIONS = DecisionRow.__table__
_HEARTBEATS = HeartbeatRow.__table__


class SqlDeskQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def recent_signals(self, limit: int) -> list[Signal]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(_SIGNALS).order_by(_SIGNALS.c.id.desc()).limit(limit))).all()
        return [signal_from_row(r) for r in rows]

    async def status_counts(self, since: datetime) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(
                select(_SIGNALS.c.status, func.count()).where(_SIGNALS.c.created_at >= since).group_by(_SIGNALS.c.status)
            )).all()
        return {status: count for status, count in rows}

    async def card_state(self, signal_id: str, trader_id: int) -> tuple[Signal, str | None, bool] | None:
        """The signal, this user's decision (if any), and whether its approval window is closed."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(_SIGNALS).where(_SIGNALS.c.id == signal_id))).one_or_none()
            if row is None:
                return None
            decision = (await conn.execute(
                select(_DECISIONS.c.decision).where(_DECISIONS.c.signal_id == signal_id, _DECISIONS.c.trader_id == trader_id)
            )).scalar()
        return signal_from_row(row), decision, bool(row.cards_closed)

    async def audit_chain(self) -> list[AuditEntry]:
        async with self._engine.connect() as conn:
            return await conn.run_sync(lambda c: list(read_chain(c)))

    async def last_beat(self, name: str) -> datetime | None:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(_HEARTBEATS.c.beat_at).where(_HEARTBEATS.c.name == name))).scalar()

    async def pending_decisions(self) -> tuple[int, int]:
        """(signals still open for a decision, approvals not yet executed)."""
        async with self._engine.connect() as conn:
            undecided = (await conn.execute(
                select(func.count()).select_from(_SIGNALS).where(_SIGNALS.c.status == SignalStatus.NEW.value, _SIGNALS.c.cards_closed.is_(False))
            )).scalar_one()
            unexecuted = (await conn.execute(
                select(func.count()).select_from(_DECISIONS).where(_DECISIONS.c.execution.in_((PENDING, WAITING, CLAIMED)))
            )).scalar_one()
        return undecided, unexecuted

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(select(1))
