"""The signal: what a producer proposes, and the rules a proposal must satisfy to be accepted."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class SignalStatus(enum.StrEnum):
    NEW = "new"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    CLOSED = "closed"


# §3's state machine: the only status changes a signal may make.
ALLOWED_TRANSITIONS: dict[SignalStatus, frozenset[SignalStatus]] = {
    SignalStatus.NEW: frozenset({SignalStatus.APPROVED, SignalStatus.REJECTED, SignalStatus.EXPIRED}),
    SignalStatus.APPROVED: frozenset({SignalStatus.EXECUTED, SignalStatus.CANCELLED}),
    SignalStatus.EXECUTED: frozenset({SignalStatus.CLOSED}),
}


def can_transition(current: SignalStatus, target: SignalStatus) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class SignalDraft:
    """A validated proposal, not yet stored."""

    instrument: str
    side: Side
    price: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    time: datetime
    version: int = 1
    external_id: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class NewSignal:
    """A draft with everything storage needs to accept it atomically (dedup and idempotency keys)."""

    id: str
    producer_id: str
    draft: SignalDraft
    created_at: datetime
    dedup_expires_at: datetime
    request_digest: str
    signature_digest: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Signal:
    id: str
    producer_id: str
    instrument: str
    side: Side
    price: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    time: datetime
    version: int
    status: SignalStatus
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    payload: dict[str, Any] | None = field(default=None)

    @property
    def short_id(self) -> str:
        return self.id.replace("-", "")[-8:]


@dataclass(frozen=True)
class IngestResult:
    signal: Signal
    created: bool  # False: an idempotent replay answered with the original signal
