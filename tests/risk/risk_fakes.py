"""In-memory stand-ins for the drawdown guard's ports: its store, a broker whose equity a test sets, and
the people it tells."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.drawdown import RiskState
from core.errors import BrokerUnavailable, TradeNotFound
from core.notify import DrawdownNote, ExecutionNote, OpsAlert
from core.signals import Side
from core.trades import CloseReason, Position, TradeEvent
from tests.support import START

D = Decimal


class MemoryRiskStore:
    def __init__(self) -> None:
        self.states: dict[str, RiskState] = {}

    async def raise_peak(self, account_id: str, equity: Decimal, *, first_peak: Decimal, now: datetime) -> RiskState:
        state = self.states.get(account_id)
        if state is None:
            state = RiskState(account_id, first_peak, False)
        elif equity > state.peak:
            state = dataclasses.replace(state, peak=equity)
        self.states[account_id] = state
        return state

    async def state(self, account_id: str) -> RiskState | None:
        return self.states.get(account_id)

    async def block(self, account_id: str, reason: str, now: datetime) -> bool:
        return self._flip(account_id, True, now, reason)

    async def unblock(self, account_id: str, now: datetime) -> bool:
        return self._flip(account_id, False, None, None)

    async def reset(self, account_id: str, peak: Decimal, now: datetime) -> bool:
        was_blocked = self._flip(account_id, False, None, None)
        self.states[account_id] = RiskState(account_id, peak, False)
        return was_blocked

    def _flip(self, account_id: str, blocked: bool, at: datetime | None, reason: str | None) -> bool:
        state = self.states.get(account_id)
        if state is None or state.blocked is blocked:
            return False
        self.states[account_id] = dataclasses.replace(state, blocked=blocked, blocked_at=at, reason=reason)
        return True


def position(position_id: str, account_id: str = "tg-111", instrument: str = "XAUUSD") -> Position:
    return Position(position_id, account_id, position_id, instrument, Side.BUY, D("0.1"), D(2400), D(2390), D(2420), START)


class FakeBroker:
    """Equity as the test sets it; closing a position records the reason and removes it, cancelling a
    pending order removes it. `log` is every cancel and close in order."""

    def __init__(self, equity: dict[str, Decimal] | None = None) -> None:
        self.equity: dict[str, Decimal] = dict(equity or {})
        self.open: dict[str, list[Position]] = {}
        self.closed: list[Position] = []
        self.failing: set[str] = set()  # position ids whose close fails
        self.unreachable: set[str] = set()  # accounts whose equity cannot be read
        self.gone: set[str] = set()  # position or order ids closed or filled elsewhere meanwhile
        self.pending: dict[str, list[str]] = {}  # account -> pending order ids
        self.unlisted: set[str] = set()  # accounts whose pending orders cannot be listed
        self.log: list[str] = []

    def hold(self, *positions: Position) -> None:
        for p in positions:
            self.open.setdefault(p.account_id, []).append(p)

    async def account_equity(self, account_id: str) -> Decimal:
        if account_id in self.unreachable:
            raise BrokerUnavailable("terminal not connected")
        return self.equity[account_id]

    async def positions(self, account_id: str) -> list[Position]:
        return list(self.open.get(account_id, []))

    async def pending_order_ids(self, account_id: str) -> list[str]:
        if account_id in self.unlisted:
            raise BrokerUnavailable("terminal not connected")
        return list(self.pending.get(account_id, []))

    async def cancel(self, order_id: str) -> None:
        if order_id in self.failing:
            raise BrokerUnavailable(f"no answer cancelling {order_id}")
        for waiting in self.pending.values():
            if order_id in waiting:
                waiting.remove(order_id)
                if order_id in self.gone:
                    raise TradeNotFound(f"order {order_id} was filled meanwhile")
                self.log.append(f"cancel {order_id}")
                return
        raise TradeNotFound(order_id)

    async def close_position(self, position_id: str, reason: CloseReason = CloseReason.MANUAL) -> Position:
        if position_id in self.failing:
            raise BrokerUnavailable(f"no answer closing {position_id}")
        for account, held in self.open.items():
            for p in held:
                if p.id == position_id:
                    held.remove(p)
                    if position_id in self.gone:
                        raise TradeNotFound(f"position {position_id} was closed meanwhile")
                    closed = dataclasses.replace(p, closed_at=START, close_price=D(2380), close_reason=reason, pnl=D(-200))
                    self.closed.append(closed)
                    self.log.append(f"close {position_id}")
                    return closed
        raise TradeNotFound(position_id)


@dataclass
class Told:
    """What the guard told the traders and ops, in order."""

    notes: list[DrawdownNote] = field(default_factory=list)
    alerts: list[OpsAlert] = field(default_factory=list)

    async def drawdown(self, note: DrawdownNote) -> None:
        self.notes.append(note)

    async def execution(self, note: ExecutionNote) -> None:
        raise AssertionError("the guard tells nobody about executions")

    async def trade_events(self, events: Sequence[TradeEvent]) -> None:
        raise AssertionError("the guard reports closes in its drawdown note")

    async def alert(self, alert: OpsAlert) -> None:
        self.alerts.append(alert)

    def kinds(self) -> list[str]:
        return [a.kind for a in self.alerts]
