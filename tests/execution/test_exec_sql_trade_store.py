"""The TradeStore contract on the SQL store, on SQLite and PostgreSQL; plus what only a database can show:
money stays exact, and two stores racing on one order apply each move once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest

from core.orders import OrderStatus
from core.trades import Account, CloseReason, EquityPoint, FillKind
from core.trading_ports import TradeStore
from storage import migrate
from storage.batch_runner import batch_runner_for
from storage.database import create_engine
from storage.trade_store import SqlTradeStore
from tests.execution.trade_store_contract import CONTRACT, LATER, fill_of, new_order, opened, position_of
from tests.support import START

D = Decimal


@pytest.fixture
async def store_factory(database_url: str) -> AsyncIterator[Callable[[], SqlTradeStore]]:
    """Stores over one migrated database; each has its own runner, as separate workers would."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    runners = []

    def make() -> SqlTradeStore:
        runners.append(batch_runner_for(engine))
        return SqlTradeStore(runners[-1])

    yield make
    for runner in runners:
        await runner.close()
    await engine.dispose()


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__ for c in CONTRACT])
async def test_sql_trade_store(check: Callable[[TradeStore], Awaitable[None]], store_factory: Callable[[], SqlTradeStore]) -> None:
    await check(store_factory())


async def test_money_stays_exact(store_factory: Callable[[], SqlTradeStore]) -> None:
    store = store_factory()
    await store.open_account(Account("a", D("0.1"), D("0.1"), START))
    order = new_order("o-1", account="a")
    await opened(store, order)
    stored = await store.order("o-1")
    assert stored is not None
    closing = fill_of(order, FillKind.CLOSE, "c-1", "0.2000000001")
    closed = dataclasses.replace(position_of(order), closed_at=LATER, close_price=D("2400.55"),
                                 close_reason=CloseReason.MANUAL, pnl=D("0.2000000001"))
    assert await store.close_position(stored.moved_to(OrderStatus.CLOSED, LATER, CloseReason.MANUAL), closed, closing)
    account = await store.account("a")
    assert account is not None and str(account.balance) == "0.3000000001"  # not a float's 0.30000000010000004
    assert (await store.position("o-1")).close_price == D("2400.55")  # type: ignore[union-attr]
    await store.add_equity_point(EquityPoint("a", LATER, D("10000.01"), D("99999999999999.9999999999")))
    assert [str(p.equity) for p in await store.equity_points("a")] == ["0.1", "99999999999999.9999999999"]
    assert str((await store.order("o-1")).request.entry) == "2400.5"  # type: ignore[union-attr]


async def test_racing_workers_fill_and_close_once(store_factory: Callable[[], SqlTradeStore]) -> None:
    setup, *workers = [store_factory() for _ in range(5)]
    await setup.open_account(Account("trader-111", D(10000), D(10000), START))
    orders = [new_order(f"o-{i}", f"s{i}") for i in range(4)]
    for order in orders:
        await setup.add_order(order)

    async def fill(store: SqlTradeStore, i: int) -> list[bool]:
        return [
            await store.fill_order(o.moved_to(OrderStatus.OPEN, START), dataclasses.replace(position_of(o), id=f"p-{o.id}-{i}"),
                                   fill_of(o, FillKind.OPEN, f"f-{o.id}-{i}"))
            for o in orders
        ]

    filled = await asyncio.gather(*(fill(store, i) for i, store in enumerate(workers)))
    assert [sum(column) for column in zip(*filled, strict=True)] == [1] * len(orders)
    positions = await setup.open_positions(account_id="trader-111")
    assert len(positions) == len(orders)

    async def close(store: SqlTradeStore, i: int) -> list[bool]:
        results = []
        for position in positions:
            order = next(o for o in orders if o.id == position.order_id).moved_to(OrderStatus.OPEN, START)
            closed = dataclasses.replace(position, closed_at=LATER, close_price=D(2420), close_reason=CloseReason.TAKE_PROFIT,
                                         pnl=D("10.25"))
            fill = fill_of(order, FillKind.CLOSE, f"c-{order.id}-{i}", "10.25")
            results.append(await store.close_position(order.moved_to(OrderStatus.CLOSED, LATER, CloseReason.TAKE_PROFIT), closed, fill))
        return results

    closes = await asyncio.gather(*(close(store, i) for i, store in enumerate(workers)))
    assert [sum(column) for column in zip(*closes, strict=True)] == [1] * len(orders)
    account = await setup.account("trader-111")
    assert account is not None and account.balance == D("10041.00")  # four closes of 10.25, each once
    assert len([f for f in await setup.fills("trader-111") if f.kind is FillKind.CLOSE]) == len(orders)


async def test_a_failed_close_writes_nothing(store_factory: Callable[[], SqlTradeStore]) -> None:
    """The order may move but the position is not open (already closed elsewhere): nothing is kept."""
    store = store_factory()
    order = new_order("o-1")
    moved = await opened(store, order)
    missing = dataclasses.replace(position_of(order), id="nope", closed_at=LATER, pnl=D(5))
    closing = fill_of(order, FillKind.CLOSE, "c-1", "5")
    assert not await store.close_position(moved.moved_to(OrderStatus.CLOSED, LATER), missing, closing)
    assert await store.order("o-1") == moved
    assert [f.id for f in await store.fills("trader-111")] == ["f-o-1"]
    assert (await store.account("trader-111")).balance == D(10000)  # type: ignore[union-attr]


async def test_an_order_id_used_under_another_key_is_refused(store_factory: Callable[[], SqlTradeStore]) -> None:
    store = store_factory()
    await store.add_order(new_order("o-1", "s1"))
    with pytest.raises(ValueError):
        await store.add_order(new_order("o-1", "s2"))
    with pytest.raises(ValueError):
        await store.add_order(new_order("o-9").moved_to(OrderStatus.CANCELLED, LATER))
