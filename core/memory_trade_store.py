"""TradeStore kept in memory: the reference behaviour of the port, for tests and single-process demos.
A SQL implementation must answer exactly the same way."""

from __future__ import annotations

import dataclasses

from core.orders import Order, OrderStatus, order_sources
from core.trades import Account, EquityPoint, Fill, Position


class InMemoryTradeStore:
    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._orders: dict[str, Order] = {}
        self._keys: dict[tuple[str, str], str] = {}  # (account, idempotency key) -> order id
        self._positions: dict[str, Position] = {}
        self._closed: list[str] = []  # position ids in the order they closed
        self._fills: list[Fill] = []
        self._equity: list[EquityPoint] = []

    async def open_account(self, account: Account) -> Account:
        if account.id not in self._accounts:
            self._accounts[account.id] = account
            self._equity.append(EquityPoint(account.id, account.opened_at, account.balance, account.balance))
        return self._accounts[account.id]

    async def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    async def add_order(self, order: Order) -> Order:
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"a new order must be {OrderStatus.NEW}, not {order.status}")
        key = (order.request.account_id, order.request.idempotency_key)
        existing = self._keys.get(key)
        if existing is not None:
            return self._orders[existing]
        if order.id in self._orders:
            raise ValueError(f"order id {order.id} is already used")
        self._keys[key] = order.id
        self._orders[order.id] = order
        return order

    async def order(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    async def orders(self, *, status: OrderStatus, instrument: str | None = None) -> list[Order]:
        return [
            o
            for o in self._orders.values()
            if o.status is status and (instrument is None or o.request.instrument == instrument)
        ]

    async def cancel_order(self, order: Order) -> bool:
        return self._move(order)

    async def fill_order(self, order: Order, position: Position, fill: Fill) -> bool:
        if not self._move(order):
            return False
        self._positions[position.id] = position
        self._fills.append(fill)
        return True

    async def close_position(self, order: Order, position: Position, fill: Fill) -> bool:
        stored = self._positions.get(position.id)
        if stored is None or not stored.is_open or not self._move(order):
            return False
        self._positions[position.id] = position
        self._closed.append(position.id)
        self._fills.append(fill)
        account = self._accounts[fill.account_id]
        self._accounts[account.id] = dataclasses.replace(account, balance=account.balance + fill.pnl)
        return True

    async def position(self, position_id: str) -> Position | None:
        return self._positions.get(position_id)

    async def open_positions(self, *, account_id: str | None = None, instrument: str | None = None) -> list[Position]:
        return [
            p
            for p in self._positions.values()
            if p.is_open
            and (account_id is None or p.account_id == account_id)
            and (instrument is None or p.instrument == instrument)
        ]

    async def closed_positions(self, account_id: str) -> list[Position]:
        closed = (self._positions[i] for i in self._closed)
        return [p for p in closed if p.account_id == account_id]

    async def fills(self, account_id: str) -> list[Fill]:
        return [f for f in self._fills if f.account_id == account_id]

    async def add_equity_point(self, point: EquityPoint) -> None:
        self._equity.append(point)

    async def equity_points(self, account_id: str) -> list[EquityPoint]:
        return [p for p in self._equity if p.account_id == account_id]

    def _move(self, order: Order) -> bool:
        """Compare-and-set: replace the stored order only if it may still move to `order.status`."""
        stored = self._orders.get(order.id)
        if stored is None or stored.status not in order_sources(order.status):
            return False
        self._orders[order.id] = order
        return True
