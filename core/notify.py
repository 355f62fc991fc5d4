"""Ports for telling people what happened: the trader whose account it is, and the ops chat.

Core services describe events; the Telegram adapter renders and delivers them through its durable outbox."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.orders import Order
from core.signals import Signal
from core.trades import Position, TradeEvent


class Severity(enum.StrEnum):
    INFO = "info"  # a recovery, or something done as designed
    WARNING = "warning"  # needs a look, nothing lost yet
    CRITICAL = "critical"  # money or messages are at stake now


@dataclass(frozen=True)
class OpsAlert:
    kind: str  # stable name, e.g. "drawdown_breach", "broker_retries_exhausted"
    severity: Severity
    what: str  # what happened, in a sentence
    subject: str  # which account, signal or target ("" for the desk as a whole)
    action: str  # what SignalDesk did about it

    @property
    def key(self) -> str:
        """Alerts with the same key are repeats of one another (deduplicated within a window)."""
        return f"{self.kind}:{self.subject}"


class OpsAlerts(Protocol):
    async def alert(self, alert: OpsAlert) -> None: ...


class ExecutionNoteKind(enum.StrEnum):
    PLACED = "placed"  # the order is at the broker: pending at its entry, or filled at once
    WAITING = "waiting"  # no quote for the instrument yet: the order waits for one
    REFUSED = "refused"  # the market or a rule no longer fits the signal; nothing was placed
    BLOCKED = "blocked"  # the drawdown guard blocks new orders on the account
    FAILED = "failed"  # the broker kept failing; retries are exhausted


@dataclass(frozen=True)
class ExecutionNote:
    """What became of one trader's approval."""

    kind: ExecutionNoteKind
    trader_id: int
    signal: Signal
    detail: str = ""  # the reason, for everything but PLACED
    order: Order | None = None  # for PLACED


@dataclass(frozen=True)
class DrawdownNote:
    account_id: str
    breached: bool  # True: pending orders cancelled, positions closed and new orders blocked; False: orders allowed again
    drawdown: Decimal  # a fraction: 0.25 is 25 %
    cap: Decimal  # a fraction
    closed: tuple[Position, ...] = ()
    cancelled: int = 0  # pending orders cancelled


class TraderNotifier(Protocol):
    async def execution(self, note: ExecutionNote) -> None: ...

    async def trade_events(self, events: Sequence[TradeEvent]) -> None:
        """Fills, closes at SL/TP and expiries, each told to the trader who owns the account."""
        ...

    async def drawdown(self, note: DrawdownNote) -> None: ...
