"""PaperBroker scenarios with hand-computed balances (XAUUSD: contract size 100, so 0.10 lot = $10 a dollar)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.brokers.paper import PaperBroker
from core.errors import InvalidOrderTransition, NoQuote, TradeNotFound
from core.memory_trade_store import InMemoryTradeStore
from core.orders import OrderKind, OrderStatus
from core.signals import Side
from core.trades import CloseReason, FillKind, TradeEventKind
from tests.execution.exec_support import TABLE, D, quote, request
from tests.support import START, FakeClock

BUY_REQ = request(Side.BUY, "2400.50", "2390.00", "2420.00", volume="0.10")
SELL_REQ = request(Side.SELL, "2400.00", "2405.00", "2390.00", volume="0.20", account="trader-222", signal_id="sig-2")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store() -> InMemoryTradeStore:
    return InMemoryTradeStore()


@pytest.fixture
def broker(store: InMemoryTradeStore, clock: FakeClock) -> PaperBroker:
    return PaperBroker(store, clock, TABLE, starting_balance=D(10000), equity_interval=timedelta(minutes=1))


def points(equity: list) -> list[tuple[Decimal, Decimal]]:  # type: ignore[type-arg]
    return [(p.balance, p.equity) for p in equity]


async def test_buy_limit_fills_at_entry_then_takes_profit(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    order = await broker.place(BUY_REQ, OrderKind.LIMIT)
    assert order.status is OrderStatus.NEW

    assert await broker.on_quote(quote("2401.00", "2401.30", 1)) == []  # ask above the limit: waits
    filled = await broker.on_quote(quote("2400.20", "2400.50", 2))  # ask reaches the entry
    assert [e.kind for e in filled] == [TradeEventKind.FILLED]
    position = filled[0].position
    assert position is not None and position.open_price == D("2400.50")
    # marked at the bid: (2400.20 - 2400.50) * 0.10 * 100 = -3.00
    assert await broker.account_equity("trader-111") == D("9997.00")

    assert await broker.on_quote(quote("2419.80", "2420.10", 3)) == []  # the ask is past TP; a buy closes on the bid
    closed = await broker.on_quote(quote("2420.10", "2420.40", 4))
    assert [e.kind for e in closed] == [TradeEventKind.CLOSED]
    result = closed[0].position
    assert result is not None
    # (2420.10 - 2400.50) * 0.10 * 100 = 196.00
    assert (result.close_price, result.close_reason, result.pnl) == (D("2420.10"), CloseReason.TAKE_PROFIT, D("196.00"))
    assert closed[0].order.status is OrderStatus.CLOSED

    account = await store.account("trader-111")
    assert account is not None and account.balance == D("10196.00")
    assert await broker.account_equity("trader-111") == D("10196.00")
    assert await broker.positions("trader-111") == []
    # the opening balance, the fill, one mark a minute is not due yet at +3 s, the close
    assert points(await store.equity_points("trader-111")) == [
        (D(10000), D(10000)),
        (D(10000), D("9997.00")),
        (D("10196.00"), D("10196.00")),
    ]
    fills = await store.fills("trader-111")
    assert [(f.kind, f.price, f.pnl) for f in fills] == [
        (FillKind.OPEN, D("2400.50"), D(0)),
        (FillKind.CLOSE, D("2420.10"), D("196.00")),
    ]


async def test_sell_stop_fills_on_the_bid_then_stops_out_on_the_ask(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    await broker.place(SELL_REQ, OrderKind.STOP)
    assert await broker.on_quote(quote("2400.10", "2400.40", 1)) == []  # bid still above the sell stop
    filled = await broker.on_quote(quote("2399.90", "2400.20", 2))
    assert [e.kind for e in filled] == [TradeEventKind.FILLED]
    assert filled[0].position is not None and filled[0].position.open_price == D("2399.90")
    # marked at the ask: (2399.90 - 2400.20) * 0.20 * 100 = -6.00
    assert await broker.account_equity("trader-222") == D("9994.00")

    closed = await broker.on_quote(quote("2405.00", "2405.30", 3))
    result = closed[0].position
    assert result is not None
    # (2399.90 - 2405.30) * 0.20 * 100 = -108.00, closed at the ask (past the 2405.00 stop: slippage)
    assert (result.close_price, result.close_reason, result.pnl) == (D("2405.30"), CloseReason.STOP_LOSS, D("-108.00"))
    account = await store.account("trader-222")
    assert account is not None and account.balance == D("9892.00")
    assert points(await store.equity_points("trader-222"))[-1] == (D("9892.00"), D("9892.00"))


async def test_pending_order_expires_on_a_quote_or_on_the_clock(
    broker: PaperBroker, store: InMemoryTradeStore, clock: FakeClock
) -> None:
    one_hour = request(Side.BUY, "2400.50", "2390.00", "2420.00", expiry_hours=1)
    order = await broker.place(one_hour, OrderKind.LIMIT)
    assert await broker.on_quote(quote("2401.00", "2401.30", 3599)) == []
    events = await broker.on_quote(quote("2300.00", "2300.30", 3600))  # would fill, but it is expired
    assert [(e.kind, e.order.reason) for e in events] == [(TradeEventKind.CANCELLED, "expired")]
    assert (await store.order(order.id)).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert points(await store.equity_points("trader-111")) == [(D(10000), D(10000))]  # a cancel adds no point

    other = await broker.place(request(Side.BUY, "2400.50", "2390.00", "2420.00", signal_id="sig-9", expiry_hours=2), OrderKind.LIMIT)
    assert await broker.expire_due() == []
    clock.advance(2 * 3600)
    expired = await broker.expire_due()
    assert [(e.order.id, e.order.status) for e in expired] == [(other.id, OrderStatus.CANCELLED)]
    assert await broker.expire_due() == []


async def test_place_is_idempotent(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    first = await broker.place(BUY_REQ, OrderKind.LIMIT)
    again = await broker.place(BUY_REQ, OrderKind.LIMIT)
    assert again == first
    assert await store.orders(status=OrderStatus.NEW) == [first]

    await broker.on_quote(quote("2400.20", "2400.50", 2))
    replay = await broker.place(BUY_REQ, OrderKind.LIMIT)  # after the fill: the same order, now open
    assert (replay.id, replay.status) == (first.id, OrderStatus.OPEN)
    assert len(await store.open_positions()) == 1


async def test_market_order_fills_at_once_and_only_once(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    with pytest.raises(NoQuote):
        await broker.place(BUY_REQ, OrderKind.MARKET)
    assert await store.orders(status=OrderStatus.NEW) == []  # nothing stored: the order waits for a quote

    await broker.on_quote(quote("2400.20", "2400.50", 1))
    order = await broker.place(BUY_REQ, OrderKind.MARKET)
    assert order.status is OrderStatus.OPEN
    assert await broker.place(BUY_REQ, OrderKind.MARKET) == order
    assert len(await store.fills("trader-111")) == 1


async def test_quotes_older_than_an_order_do_not_fill_it(broker: PaperBroker, clock: FakeClock) -> None:
    clock.advance(60)
    late = dataclasses.replace(BUY_REQ, created_at=clock.now())
    await broker.place(late, OrderKind.LIMIT)
    assert await broker.on_quote(quote("2400.20", "2400.50", 59)) == []
    assert [e.kind for e in await broker.on_quote(quote("2400.20", "2400.50", 61))] == [TradeEventKind.FILLED]


async def test_a_gap_fills_and_closes_on_the_same_quote(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    await broker.place(BUY_REQ, OrderKind.STOP)
    events = await broker.on_quote(quote("2425.00", "2425.30", 1))  # straight through entry and target
    assert [e.kind for e in events] == [TradeEventKind.FILLED, TradeEventKind.CLOSED]
    closed = events[1].position
    assert closed is not None
    # bought at the ask 2425.30, sold at the bid 2425.00: (2425.00 - 2425.30) * 0.10 * 100 = -3.00
    assert (closed.open_price, closed.close_price, closed.pnl) == (D("2425.30"), D("2425.00"), D("-3.00"))
    account = await store.account("trader-111")
    assert account is not None and account.balance == D("9997.00")


async def test_equity_is_marked_at_most_once_per_interval(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    await broker.place(BUY_REQ, OrderKind.LIMIT)
    await broker.on_quote(quote("2400.20", "2400.50", 0))  # fill: point
    await broker.on_quote(quote("2401.20", "2401.50", 30))  # within the minute: no point
    await broker.on_quote(quote("2402.20", "2402.50", 60))  # a minute on: point, +1.70 * 10
    await broker.on_quote(quote("2399.20", "2399.50", 90))
    await broker.on_quote(quote("2398.50", "2398.80", 125))  # point, -2.00 * 10
    await broker.on_quote(quote("1.1", "1.2", 200, instrument="EURUSD"))  # another instrument: not marked
    assert points(await store.equity_points("trader-111")) == [
        (D(10000), D(10000)),  # the opening balance
        (D(10000), D("9997.00")),
        (D(10000), D("10017.00")),
        (D(10000), D("9980.00")),
    ]
    assert await broker.account_equity("trader-111") == D("9980.00")


async def test_two_traders_have_separate_accounts(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    await broker.place(BUY_REQ, OrderKind.LIMIT)
    await broker.place(SELL_REQ, OrderKind.LIMIT)  # sell limit at 2400.00: fills when the bid reaches it
    events = await broker.on_quote(quote("2400.00", "2400.30", 1))
    assert {(e.kind, e.order.request.account_id) for e in events} == {
        (TradeEventKind.FILLED, "trader-111"),
        (TradeEventKind.FILLED, "trader-222"),
    }
    # the buy limit fills at the better ask 2400.30: (2400.00 - 2400.30) * 10 = -3.00
    # the sell fills at the bid 2400.00, marked at the ask: (2400.00 - 2400.30) * 20 = -6.00
    assert await broker.account_equity("trader-111") == D("9997.00")
    assert await broker.account_equity("trader-222") == D("9994.00")
    assert await broker.account_equity("trader-333") == D(10000)  # opened on first sight with the starting balance


async def test_cancel_and_manual_close(broker: PaperBroker, store: InMemoryTradeStore, clock: FakeClock) -> None:
    pending = await broker.place(SELL_REQ, OrderKind.LIMIT)
    await broker.cancel(pending.id)
    assert (await store.order(pending.id)).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(InvalidOrderTransition):
        await broker.cancel(pending.id)
    with pytest.raises(TradeNotFound):
        await broker.cancel("no-such-order")

    order = await broker.place(BUY_REQ, OrderKind.LIMIT)
    await broker.on_quote(quote("2400.20", "2400.50", 1))
    with pytest.raises(InvalidOrderTransition):
        await broker.cancel(order.id)  # filled: close the position instead
    await broker.on_quote(quote("2405.20", "2405.50", 2))
    clock.advance(3)
    closed = await broker.close_position(order.id, CloseReason.DRAWDOWN)
    # (2405.20 - 2400.50) * 10 = 47.00, at the last bid, stamped with the clock
    assert (closed.close_price, closed.pnl, closed.close_reason, closed.closed_at) == (
        D("2405.20"), D("47.00"), CloseReason.DRAWDOWN, clock.now(),
    )
    assert (await store.order(order.id)).status is OrderStatus.CLOSED  # type: ignore[union-attr]
    with pytest.raises(TradeNotFound):
        await broker.close_position(order.id)
    assert [p.pnl for p in await store.closed_positions("trader-111")] == [D("47.00")]


async def test_concurrent_quotes_and_closes_close_once(broker: PaperBroker, store: InMemoryTradeStore) -> None:
    order = await broker.place(BUY_REQ, OrderKind.LIMIT)
    await broker.on_quote(quote("2400.20", "2400.50", 1))
    results = await asyncio.gather(
        broker.on_quote(quote("2420.10", "2420.40", 2)),
        broker.close_position(order.id),
        return_exceptions=True,
    )
    # whichever runs second finds the position closed: no second close, no second PnL
    assert isinstance(results[1], TradeNotFound) != (results[0] == [])
    assert len(await store.closed_positions("trader-111")) == 1
    assert len([f for f in await store.fills("trader-111") if f.kind is FillKind.CLOSE]) == 1
