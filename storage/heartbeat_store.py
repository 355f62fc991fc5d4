"""What the heartbeat job reads and writes: the desk's running totals, and its own `heartbeats` row
(one per job name, overwritten on every beat, so its age says how long ago the job last ran)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.execution import ExecutionEnd
from core.signals import SignalStatus
from storage.batch_runner import BatchRunner
from storage.models import DecisionRow, HeartbeatRow, SignalRow
from storage.upsert import insert_for

_HEARTBEATS = HeartbeatRow.__table__
_SIGNALS = SignalRow.__table__
_DECISIONS = DecisionRow.__table__


@dataclass(frozen=True)
class DeskTotals:
    signals_processed: int  # decided or expired: no longer waiting for a trader
    orders_executed: int  # approvals that became an order at the broker
    orders_failed: int  # approvals the broker kept failing or rejected


@dataclass(frozen=True)
class Beat:
    name: str
    instance: str  # which process beat
    beat_at: datetime
    data: dict[str, Any]  # JSON: what the beat measured


class SqlHeartbeats:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def totals(self) -> DeskTotals:
        return await self._runner.run(_totals)

    async def record(self, beat: Beat) -> None:
        values = {"instance": beat.instance, "beat_at": beat.beat_at, "data": beat.data}
        await self._runner.run(lambda conn: conn.execute(
            insert_for(conn, _HEARTBEATS).values(name=beat.name, **values).on_conflict_do_update(index_elements=["name"], set_=values)
        ))

    async def latest(self, name: str) -> Beat | None:
        row = await self._runner.run(lambda conn: conn.execute(select(_HEARTBEATS).where(_HEARTBEATS.c.name == name)).first())
        return None if row is None else Beat(row.name, row.instance, row.beat_at, row.data)


def _totals(conn: Connection) -> DeskTotals:
    def count(table: Any, condition: Any) -> int:
        return conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one()

    return DeskTotals(
        signals_processed=count(_SIGNALS, _SIGNALS.c.status != SignalStatus.NEW.value),
        orders_executed=count(_DECISIONS, _DECISIONS.c.order_id.is_not(None)),
        orders_failed=count(_DECISIONS, _DECISIONS.c.execution == ExecutionEnd.FAILED.value),
    )
