"""What an order turns into once it fills: positions, fills, account balances and equity points."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.orders import Order
from core.quotes import Quote
from core.signals import Side


class CloseReason(enum.StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    MANUAL = "manual"  # /close, /closeall
    DRAWDOWN = "drawdown"  # the drawdown guard


class FillKind(enum.StrEnum):
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class Position:
    id: str
    account_id: str
    order_id: str
    instrument: str
    side: Side
    volume: Decimal
    open_price: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    opened_at: datetime
    closed_at: datetime | None = None
    close_price: Decimal | None = None
    close_reason: CloseReason | None = None
    pnl: Decimal | None = None  # realised, once closed

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Fill:
    """One execution. `side` is the position's side; `kind` says whether this fill opened or closed it."""

    id: str
    order_id: str
    account_id: str
    instrument: str
    side: Side
    kind: FillKind
    volume: Decimal
    price: Decimal
    time: datetime
    pnl: Decimal = Decimal(0)  # realised by this fill (non-zero only when closing)


@dataclass(frozen=True)
class Account:
    id: str
    starting_balance: Decimal
    balance: Decimal  # starting balance plus every realised PnL
    opened_at: datetime


@dataclass(frozen=True)
class EquityPoint:
    account_id: str
    time: datetime
    balance: Decimal
    equity: Decimal  # balance plus the open positions marked to market


class TradeEventKind(enum.StrEnum):
    FILLED = "filled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TradeEvent:
    """Something the trader should hear about: a fill, a close at SL/TP, an expiry."""

    kind: TradeEventKind
    order: Order
    position: Position | None = None


def pnl(side: Side, open_price: Decimal, close_price: Decimal, volume: Decimal, contract_size: Decimal) -> Decimal:
    """Profit in the instrument's quote currency (no conversion to the account currency)."""
    difference = close_price - open_price if side is Side.BUY else open_price - close_price
    return difference * volume * contract_size


def entry_price(side: Side, quote: Quote) -> Decimal:
    """A buy takes the ask, a sell takes the bid."""
    return quote.ask if side is Side.BUY else quote.bid


def exit_price(side: Side, quote: Quote) -> Decimal:
    """Closing a buy sells at the bid; closing a sell buys at the ask."""
    return quote.bid if side is Side.BUY else quote.ask
