"""What /status reports: every part asked at once, each with a deadline, so a slow or dead dependency
shows as down (or unknown) instead of holding up the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Protocol, TypeVar

from bot.recent_errors import LoggedError, RecentErrors
from core.accounts import AccountMap
from core.clock import Clock
from core.drawdown import AccountRisk, percent
from core.health_watch import HEARTBEAT
from core.trading_ports import Broker, TradeStore
from storage.desk_queries import SqlDeskQueries
from storage.outbox_store import SqlOutbox

log = logging.getLogger(__name__)
# Asked at once, so the answer takes the longest of these: under a second even when a part hangs.
BROKER_TIMEOUT_SECONDS = 0.5
DATABASE_TIMEOUT_SECONDS = 0.8  # a loaded database is slow, not down: a little more room than the broker
T = TypeVar("T")


class DrawdownStatus(Protocol):
    async def status(self) -> list[AccountRisk]: ...


@dataclass(frozen=True)
class StatusSources:
    queries: SqlDeskQueries
    outbox: SqlOutbox
    trades: TradeStore
    broker: Broker
    accounts: AccountMap
    errors: RecentErrors
    drawdown: DrawdownStatus | None  # None: no drawdown guard running


@dataclass(frozen=True)
class DeskStatus:
    """None for a part means it did not answer within the deadline."""

    version: str
    uptime: timedelta
    database_up: bool
    broker_up: bool | None  # None: no account to probe
    signals_today: dict[str, int] | None = None
    pending: tuple[int, int] | None = None  # (awaiting a decision, approvals awaiting execution)
    open_positions: int | None = None
    heartbeat_age: timedelta | None = None
    heartbeat_seen: bool = False
    drawdown: list[AccountRisk] | None = None
    drawdown_enabled: bool = True
    outbox: tuple[int, datetime | None] | None = None
    errors: list[LoggedError] = field(default_factory=list)
    now: datetime | None = None


class StatusReporter:
    def __init__(self, sources: StatusSources, clock: Clock, version: str) -> None:
        self._s = sources
        self._clock = clock
        self._version = version
        self._started = clock.monotonic()

    async def report(self) -> DeskStatus:
        s = self._s
        now = self._clock.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        counts, pending, positions, beat, outbox, drawdown, broker_up = await asyncio.gather(
            _within(s.queries.status_counts(midnight), DATABASE_TIMEOUT_SECONDS),
            _within(s.queries.pending_decisions(), DATABASE_TIMEOUT_SECONDS),
            _within(s.trades.open_positions(), DATABASE_TIMEOUT_SECONDS),
            _within(s.queries.last_beat(HEARTBEAT), DATABASE_TIMEOUT_SECONDS),
            _within(s.outbox.depth(), DATABASE_TIMEOUT_SECONDS),
            _within(s.drawdown.status(), BROKER_TIMEOUT_SECONDS) if s.drawdown else _none(),  # asks the broker
            self._broker_up(),
        )
        return DeskStatus(
            self._version, timedelta(seconds=int(self._clock.monotonic() - self._started)),
            database_up=counts is not None, broker_up=broker_up,
            signals_today=counts, pending=pending, open_positions=None if positions is None else len(positions),
            heartbeat_age=(now - beat) if beat else None, heartbeat_seen=beat is not None,
            drawdown=drawdown, drawdown_enabled=s.drawdown is not None, outbox=outbox, errors=s.errors.latest(), now=now,
        )

    async def _broker_up(self) -> bool | None:
        """One account's equity, asked with the deadline: the cheapest call every broker answers."""
        accounts = self._s.accounts.accounts()
        if not accounts:
            return None
        return await _within(self._s.broker.account_equity(accounts[0]), BROKER_TIMEOUT_SECONDS) is not None


async def _within(call: Awaitable[T], seconds: float) -> T | None:
    try:
        async with asyncio.timeout(seconds):
            return await call
    except Exception as exc:  # noqa: BLE001 - any failure means "no answer" to an admin
        log.info("event=status_part_unavailable error=%s", type(exc).__name__)
        return None


async def _none() -> None:
    return None


def render_status(status: DeskStatus) -> str:
    unknown = f"<i>no answer within {DATABASE_TIMEOUT_SECONDS} s</i>"
    broker_unknown = f"<i>no answer within {BROKER_TIMEOUT_SECONDS} s</i>"
    lines = [
        f"<b>SignalDesk {escape(status.version)}</b> · up {status.uptime}",
        f"Database: {'up' if status.database_up else f'<b>DOWN</b> ({unknown})'}",
        f"Broker: {_broker(status.broker_up, broker_unknown)}",
        f"Heartbeat: {_heartbeat(status)}",
        f"Signals today: {_signals(status.signals_today, unknown)}",
        f"Pending: {_pending(status.pending, unknown)}",
        f"Open positions: {unknown if status.open_positions is None else status.open_positions}",
        f"Outbox: {_outbox(status, unknown)}",
        *_drawdown(status, broker_unknown),
        *_errors(status.errors),
    ]
    return "\n".join(lines)


def _broker(up: bool | None, unknown: str) -> str:
    if up is None:
        return "no account to probe"
    return "up" if up else f"<b>DOWN</b> ({unknown})"


def _heartbeat(status: DeskStatus) -> str:
    if status.heartbeat_age is not None:
        return f"last beat {int(status.heartbeat_age.total_seconds())} s ago"
    return "no beat recorded yet" if status.database_up else "unknown (database down)"


def _signals(counts: dict[str, int] | None, unknown: str) -> str:
    if counts is None:
        return unknown
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def _pending(pending: tuple[int, int] | None, unknown: str) -> str:
    if pending is None:
        return unknown
    undecided, unexecuted = pending
    return f"{undecided} awaiting a decision, {unexecuted} approval(s) awaiting execution"


def _outbox(status: DeskStatus, unknown: str) -> str:
    if status.outbox is None or status.now is None:
        return unknown
    depth, oldest = status.outbox
    return f"{depth} waiting" + (f", oldest {int((status.now - oldest).total_seconds())} s" if oldest else "")


def _drawdown(status: DeskStatus, unknown: str) -> list[str]:
    if not status.drawdown_enabled:
        return ["Drawdown: guard not running"]
    if status.drawdown is None:
        return [f"Drawdown: {unknown}"]
    if not status.drawdown:
        return ["Drawdown: no accounts"]
    return ["Drawdown:", *(f"  {escape(r.account_id)}: {_risk(r)}" for r in status.drawdown)]


def _risk(risk: AccountRisk) -> str:
    shown = "unknown" if risk.drawdown is None else percent(risk.drawdown)
    blocked = " · <b>BLOCKED</b>" if risk.blocked else ""
    return f"{shown} of {percent(risk.cap)} cap{blocked}" + (f" ({escape(risk.error)})" if risk.error else "")


def _errors(errors: Sequence[LoggedError]) -> list[str]:
    if not errors:
        return ["Recent errors: none"]
    return ["Recent errors:", *(f"  {e.at:%H:%M:%S} {escape(e.logger)}: {escape(e.message)}" for e in errors)]

