"""What every TradeStore must do, as checks that take a fresh store: run them on the in-memory store here
and on a SQL store (SQLite and PostgreSQL) in its own tests, so the two can never disagree."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.orders import Order, OrderKind, OrderStatus
from core.signals import Side
from core.trades import Account, CloseReason, EquityPoint, Fill, FillKind, Position
from core.trading_ports import TradeStore
from tests.execution.exec_support import D, request
from tests.support import START

LATER = START + timedelta(minutes=5)


def new_order(order_id: str, signal_id: str = "sig-1", account: str = "trader-111", instrument: str = "XAUUSD") -> Order:
    req = request(Side.BUY, "2400.50", "2390.00", "2420.00", signal_id=signal_id, account=account, instrument=instrument)
    return Order(order_id, req, OrderKind.LIMIT, OrderStatus.NEW, START)


def position_of(order: Order) -> Position:
    r = order.request
    return Position(order.id, r.account_id, order.id, r.instrument, r.side, r.volume, r.entry, r.stop_loss,
                    r.take_profit, START)


def fill_of(order: Order, kind: FillKind, fill_id: str, pnl: str = "0") -> Fill:
    r = order.request
    return Fill(fill_id, order.id, r.account_id, r.instrument, r.side, kind, r.volume, r.entry, START, D(pnl))


async def opened(store: TradeStore, order: Order) -> Order:
    await store.open_account(Account(order.request.account_id, D(10000), D(10000), START))
    await store.add_order(order)
    moved = order.moved_to(OrderStatus.OPEN, START)
    assert await store.fill_order(moved, position_of(order), fill_of(order, FillKind.OPEN, f"f-{order.id}"))
    return moved


async def accounts_open_once(store: TradeStore) -> None:
    first = await store.open_account(Account("a", D(10000), D(10000), START))
    assert await store.open_account(Account("a", D(5), D(5), LATER)) == first
    assert await store.account("a") == first
    assert await store.account("nobody") is None


async def orders_are_idempotent_per_account_and_key(store: TradeStore) -> None:
    first = await store.add_order(new_order("o-1"))
    assert await store.add_order(new_order("o-2")) == first  # same decision, another attempt
    other_account = await store.add_order(new_order("o-3", account="trader-222"))
    assert other_account.id == "o-3"
    assert await store.order("o-1") == first
    assert await store.order("o-2") is None


async def orders_filter_by_status_and_instrument(store: TradeStore) -> None:
    gold = await store.add_order(new_order("o-1", "s1"))
    euro = await store.add_order(new_order("o-2", "s2", instrument="EURUSD"))
    later = await store.add_order(new_order("o-3", "s3"))
    assert await store.orders(status=OrderStatus.NEW) == [gold, euro, later]
    assert await store.orders(status=OrderStatus.NEW, instrument="XAUUSD") == [gold, later]
    assert await store.cancel_order(euro.moved_to(OrderStatus.CANCELLED, LATER, "expired"))
    assert await store.orders(status=OrderStatus.CANCELLED) == [euro.moved_to(OrderStatus.CANCELLED, LATER, "expired")]


async def an_order_fills_once(store: TradeStore) -> None:
    order = new_order("o-1")
    moved = await opened(store, order)
    assert await store.order("o-1") == moved
    again = fill_of(order, FillKind.OPEN, "f-2")
    assert not await store.fill_order(moved, dataclasses.replace(position_of(order), id="p-2"), again)
    assert not await store.cancel_order(order.moved_to(OrderStatus.CANCELLED, LATER))  # filled: no cancel
    assert await store.open_positions() == [position_of(order)]
    assert [f.id for f in await store.fills("trader-111")] == ["f-o-1"]


async def a_position_closes_once_and_its_pnl_is_added(store: TradeStore) -> None:
    first, second = new_order("o-1", "s1"), new_order("o-2", "s2")
    for order in (first, second):
        await opened(store, order)
    for order, pnl in ((second, "-40.00"), (first, "196.00")):
        stored = await store.order(order.id)
        assert stored is not None
        closed_order = stored.moved_to(OrderStatus.CLOSED, LATER, CloseReason.TAKE_PROFIT)
        closed = dataclasses.replace(
            position_of(order), closed_at=LATER, close_price=D(2420), close_reason=CloseReason.TAKE_PROFIT, pnl=D(pnl)
        )
        closing = fill_of(order, FillKind.CLOSE, f"c-{order.id}", pnl)
        assert await store.close_position(closed_order, closed, closing)
        assert not await store.close_position(closed_order, closed, dataclasses.replace(closing, id="c-again"))
    account = await store.account("trader-111")
    assert account is not None and account.balance == D("10156.00")  # 10000 - 40 + 196, once each
    assert await store.open_positions(account_id="trader-111") == []
    assert [p.id for p in await store.closed_positions("trader-111")] == ["o-2", "o-1"]
    assert (await store.position("o-1")).pnl == D("196.00")  # type: ignore[union-attr]
    assert [f.id for f in await store.fills("trader-111")] == ["f-o-1", "f-o-2", "c-o-2", "c-o-1"]


async def equity_points_per_account_oldest_first(store: TradeStore) -> None:
    points = [
        EquityPoint("a", START, D(1), D(2)),
        EquityPoint("b", START, D(3), D(4)),
        EquityPoint("a", LATER, D(5), D(6)),
    ]
    for point in points:
        await store.add_equity_point(point)
    assert await store.equity_points("a") == [points[0], points[2]]


CONTRACT: list[Callable[[TradeStore], Awaitable[None]]] = [
    accounts_open_once,
    orders_are_idempotent_per_account_and_key,
    orders_filter_by_status_and_instrument,
    an_order_fills_once,
    a_position_closes_once_and_its_pnl_is_added,
    equity_points_per_account_oldest_first,
]
