"""Orders: what a trader's approval asks a broker to do, and the one state machine every order follows."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.errors import InvalidOrderTransition
from core.signals import Side


class OrderStatus(enum.StrEnum):
    NEW = "new"  # placed, waiting for its entry (or, for a market order, for its fill)
    OPEN = "open"  # filled: a position is open
    CLOSED = "closed"  # the position was closed
    CANCELLED = "cancelled"  # never filled: expired, cancelled or refused


# The only status changes an order may make; storage conditions its updates on this table too.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset({OrderStatus.OPEN, OrderStatus.CANCELLED}),
    OrderStatus.OPEN: frozenset({OrderStatus.CLOSED}),
}


def order_sources(target: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses an order may move to `target` from (for a conditional `UPDATE ... WHERE status IN`)."""
    return frozenset(source for source, targets in ORDER_TRANSITIONS.items() if target in targets)


class OrderKind(enum.StrEnum):
    MARKET = "market"  # fill now at the current price
    LIMIT = "limit"  # wait for a better price: buy below / sell above the market
    STOP = "stop"  # wait for the market to reach a worse price: buy above / sell below it


@dataclass(frozen=True)
class OrderRequest:
    """A fully checked order for one account: prices on the instrument's grid, sized, with an expiry."""

    account_id: str
    signal_id: str
    idempotency_key: str
    instrument: str
    side: Side
    volume: Decimal
    entry: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Order:
    id: str
    request: OrderRequest
    kind: OrderKind
    status: OrderStatus
    updated_at: datetime
    reason: str | None = None  # why it was cancelled or closed, for the trader

    def moved_to(self, status: OrderStatus, at: datetime, reason: str | None = None) -> Order:
        if status not in ORDER_TRANSITIONS.get(self.status, frozenset()):
            raise InvalidOrderTransition(self.id, self.status, status)
        return dataclasses.replace(self, status=status, updated_at=at, reason=reason)


def order_key(signal_id: str, account_id: str) -> str:
    """The idempotency key of the order one approval creates: the same decision always yields the same key.

    Short (27 characters) because MT5 carries it in the order comment, which holds at most 31."""
    digest = hashlib.sha256(f"{signal_id}\x1f{account_id}".encode()).hexdigest()
    return f"sd-{digest[:24]}"
