"""Ports of the trading side: the broker that executes orders, the feed that prices them, and the store
the paper broker keeps its book in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from core.candles import Candle
from core.orders import Order, OrderKind, OrderRequest, OrderStatus
from core.quotes import Quote
from core.trades import Account, CloseReason, EquityPoint, Fill, Position, TradeEvent

__all__ = ["Broker", "PriceFeed", "Quote", "QuoteDrivenBroker", "QuoteStore", "TradeStore"]


class Broker(Protocol):
    async def place(self, request: OrderRequest, kind: OrderKind) -> Order:
        """Place `request` as a market or pending order. Idempotent: a request whose idempotency key was
        placed before answers that order (in its current state) and places nothing.
        Raises NoQuote, BrokerRejected, BrokerUnavailable (retryable: placing again is safe)."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Cancel a pending order. Raises TradeNotFound (unknown) or InvalidOrderTransition (not pending)."""
        ...

    async def close_position(self, position_id: str, reason: CloseReason = CloseReason.MANUAL) -> Position:
        """Close at the current price; answers the closed position with its realised PnL.
        Raises TradeNotFound (unknown or already closed), NoQuote, BrokerError."""
        ...

    async def positions(self, account_id: str) -> list[Position]:
        """The account's open positions."""
        ...

    async def pending_order_ids(self, account_id: str) -> list[str]:
        """The account's orders placed and not filled yet (limit and stop orders waiting for their price)."""
        ...

    async def account_equity(self, account_id: str) -> Decimal:
        """Balance plus open positions marked to market."""
        ...


class PriceFeed(Protocol):
    async def latest_quote(self, instrument: str) -> Quote | None: ...

    async def candles(self, instrument: str, *, timeframe: timedelta, limit: int) -> list[Candle]:
        """The latest `limit` candles, oldest first; the last one may still be forming."""
        ...


class QuoteStore(PriceFeed, Protocol):
    """Where accepted quotes go, so that every process (and a restarted one) prices orders alike."""

    async def record(self, quotes: Sequence[Quote]) -> None:
        """Store accepted quotes, in time order, in one transaction: each becomes its instrument's latest
        quote (unless a newer one is stored) and updates the forming candle. Raises StorageUnavailable."""
        ...

    async def load_bars(self, instrument: str, candles: Sequence[Candle]) -> int:
        """Store history bars (e.g. from a CSV file), replacing stored bars of the same start; how many were stored."""
        ...


class QuoteDrivenBroker(Protocol):
    """A broker that trades on the quotes it is fed (the paper broker)."""

    async def on_quote(self, quote: Quote) -> list[TradeEvent]: ...


class TradeStore(Protocol):
    """What the paper broker persists. Each method is one atomic step; the methods that move an order
    apply the move only if the stored order may still make it (status IN order_sources(new status)) and
    answer False when it may not, writing nothing: that is what keeps two workers from filling or closing
    one order twice."""

    async def open_account(self, account: Account) -> Account:
        """Create the account unless it exists, with its first equity point (the starting balance);
        answer the stored one."""
        ...

    async def account(self, account_id: str) -> Account | None: ...

    async def add_order(self, order: Order) -> Order:
        """Store a NEW order, or answer the order already stored under its (account, idempotency key)."""
        ...

    async def order(self, order_id: str) -> Order | None: ...

    async def orders(self, *, status: OrderStatus, instrument: str | None = None) -> list[Order]:
        """Orders in `status` (on `instrument`), oldest first."""
        ...

    async def cancel_order(self, order: Order) -> bool:
        """Store `order` (moved to CANCELLED)."""
        ...

    async def fill_order(self, order: Order, position: Position, fill: Fill) -> bool:
        """Store `order` (moved to OPEN), its new `position` and the opening `fill`."""
        ...

    async def close_position(self, order: Order, position: Position, fill: Fill) -> bool:
        """Store `order` (moved to CLOSED), the closed `position` and the closing `fill`, and add the
        fill's PnL to the account's balance (as an increment, never a value read earlier)."""
        ...

    async def position(self, position_id: str) -> Position | None: ...

    async def open_positions(self, *, account_id: str | None = None, instrument: str | None = None) -> list[Position]:
        """Open positions, oldest first."""
        ...

    async def closed_positions(self, account_id: str) -> list[Position]:
        """Closed positions, in the order they closed (history, stats)."""
        ...

    async def fills(self, account_id: str) -> list[Fill]: ...

    async def add_equity_point(self, point: EquityPoint) -> None: ...

    async def equity_points(self, account_id: str) -> list[EquityPoint]:
        """Oldest first."""
        ...
