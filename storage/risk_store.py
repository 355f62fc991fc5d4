"""The drawdown guard's state in SQL (`risk_accounts`): the `RiskStore` port on SQLite and PostgreSQL.

Each method is one transaction. Raising the peak is one conditional `UPDATE ... WHERE peak_equity < :new`,
so two workers measuring at once can only ever raise it; blocking and unblocking are conditional on the
current flag, so of two workers only one sees the change happen (and tells people about it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection

from core.drawdown import RiskState
from storage.batch_runner import BatchRunner
from storage.models import RiskAccountRow
from storage.money_sql import exact, less_than
from storage.upsert import insert_for

RISK: Table = RiskAccountRow.__table__  # type: ignore[assignment]

__all__ = ["SqlRiskStore"]


class SqlRiskStore:
    def __init__(self, runner: BatchRunner) -> None:
        self._runner = runner

    async def raise_peak(self, account_id: str, equity: Decimal, *, first_peak: Decimal, now: datetime) -> RiskState:
        return await self._runner.run(lambda conn: _raise_peak(conn, account_id, equity, first_peak, now))

    async def state(self, account_id: str) -> RiskState | None:
        return await self._runner.run(lambda conn: _state(conn, account_id))

    async def block(self, account_id: str, reason: str, now: datetime) -> bool:
        return await self._runner.run(lambda conn: _flip(conn, account_id, blocked=True, now=now, reason=reason[:200]))

    async def unblock(self, account_id: str, now: datetime) -> bool:
        return await self._runner.run(lambda conn: _flip(conn, account_id, blocked=False, now=now, reason=None))

    async def reset(self, account_id: str, peak: Decimal, now: datetime) -> bool:
        return await self._runner.run(lambda conn: _reset(conn, account_id, peak, now))


def _raise_peak(conn: Connection, account_id: str, equity: Decimal, first_peak: Decimal, now: datetime) -> RiskState:
    conn.execute(
        insert_for(conn, RISK)
        .values(account_id=account_id, peak_equity=first_peak, blocked=False, updated_at=now)
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    conn.execute(
        update(RISK)
        .where(RISK.c.account_id == account_id, less_than(conn, RISK.c.peak_equity, equity))
        .values(peak_equity=equity, updated_at=now)
    )
    state = _state(conn, account_id)
    assert state is not None
    return state


def _flip(conn: Connection, account_id: str, *, blocked: bool, now: datetime, reason: str | None) -> bool:
    """Set the flag only if it is not set that way already: the caller learns whether it made the change."""
    changed = conn.execute(
        update(RISK)
        .where(RISK.c.account_id == account_id, RISK.c.blocked.is_(not blocked))
        .values(blocked=blocked, blocked_at=now if blocked else None, reason=reason, updated_at=now)
    ).rowcount
    return changed == 1


def _reset(conn: Connection, account_id: str, peak: Decimal, now: datetime) -> bool:
    was_blocked = _flip(conn, account_id, blocked=False, now=now, reason=None)
    conn.execute(
        insert_for(conn, RISK)
        .values(account_id=account_id, peak_equity=peak, blocked=False, updated_at=now)
        .on_conflict_do_update(index_elements=["account_id"], set_={"peak_equity": peak, "updated_at": now})
    )
    return was_blocked


def _state(conn: Connection, account_id: str) -> RiskState | None:
    row = conn.execute(select(RISK).where(RISK.c.account_id == account_id)).first()
    if row is None:
        return None
    return RiskState(row.account_id, exact(row.peak_equity), row.blocked, row.blocked_at, row.reason)
