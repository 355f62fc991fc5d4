"""MT5Broker against a fake MetaTrader5 module: request fields, idempotency, retcodes, threads."""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.brokers.mt5 import RETCODES, MT5Broker, MT5Login
from core.errors import BrokerError, BrokerRejected, BrokerUnavailable, NoQuote, TradeNotFound
from core.orders import OrderKind, OrderStatus
from core.signals import Side
from core.trades import CloseReason
from tests.brokers.fake_mt5 import FakeMT5
from tests.execution.exec_support import D, request
from tests.support import START, FakeClock

ACCOUNT = "trader-111"
LOGIN = MT5Login(login=5001, password="secret", server="Demo-Server", path=r"C:\MT5\terminal64.exe")
BUY = request(Side.BUY, "2400.50", "2390.00", "2420.00", volume="0.10")
SELL = request(Side.SELL, "2400.00", "2410.00", "2380.00", volume="0.20", signal_id="sig-2")
HOUR = 3600


@pytest.fixture
def mt5() -> FakeMT5:
    fake = FakeMT5()
    fake.set_tick("XAUUSD", 2400.70, 2401.00, at=int(START.timestamp()))
    return fake


@pytest.fixture
async def broker(mt5: FakeMT5) -> AsyncIterator[MT5Broker]:
    broker = MT5Broker(ACCOUNT, LOGIN, FakeClock(START), module=mt5, magic=777, deviation_points=20)
    await broker.connect()
    yield broker
    await broker.close()


async def test_connect_initializes_with_path_and_credentials(broker: MT5Broker, mt5: FakeMT5) -> None:
    assert mt5.initialize_args == (r"C:\MT5\terminal64.exe", 5001, "secret", "Demo-Server")


async def test_bad_credentials_are_a_clear_error(mt5: FakeMT5) -> None:
    broker = MT5Broker(ACCOUNT, MT5Login(5001, "wrong", "Demo-Server"), FakeClock(START), module=mt5)
    with pytest.raises(BrokerUnavailable, match=r"initialize failed: Terminal: Authorization failed \(-6\)"):
        await broker.connect()
    await broker.close()


async def test_an_account_in_another_currency_than_configured_is_refused_at_connect(mt5: FakeMT5) -> None:
    mt5.currency = "EUR"
    broker = MT5Broker(ACCOUNT, LOGIN, FakeClock(START), module=mt5, currency="USD")
    with pytest.raises(BrokerError, match='MT5 account 5001 is in EUR, but broker.currency is USD: set broker.currency = "EUR"'):
        await broker.connect()
    await broker.close()


async def test_without_a_connection_calls_fail_as_unavailable(mt5: FakeMT5) -> None:
    broker = MT5Broker(ACCOUNT, LOGIN, FakeClock(START), module=mt5)
    with pytest.raises(BrokerUnavailable, match="account_info failed: No IPC connection") as raised:
        await broker.account_equity(ACCOUNT)
    assert raised.value.retryable
    await broker.close()


def test_a_missing_package_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # makes `import MetaTrader5` fail
    with pytest.raises(BrokerError, match="needs the MetaTrader5 package, which exists only for Windows") as raised:
        MT5Broker(ACCOUNT, LOGIN, FakeClock(START))
    assert not raised.value.retryable


async def test_pending_order_request_fields(broker: MT5Broker, mt5: FakeMT5) -> None:
    order = await broker.place(BUY, OrderKind.LIMIT)
    assert mt5.sent == [
        {
            "action": mt5.TRADE_ACTION_PENDING,
            "symbol": "XAUUSD",
            "volume": 0.10,
            "type": mt5.ORDER_TYPE_BUY_LIMIT,
            "price": 2400.50,
            "sl": 2390.00,
            "tp": 2420.00,
            "magic": 777,
            "comment": BUY.idempotency_key,
            "type_time": mt5.ORDER_TIME_SPECIFIED,
            "expiration": int(START.timestamp()) + 100 * HOUR,
            "type_filling": mt5.ORDER_FILLING_RETURN,
        }
    ]
    assert (order.status, order.kind, order.request) == (OrderStatus.NEW, OrderKind.LIMIT, BUY)
    assert order.id == str(mt5.orders_get()[0].ticket)


@pytest.mark.parametrize(
    ("req", "kind", "mt5_type"),
    [(BUY, OrderKind.STOP, "ORDER_TYPE_BUY_STOP"), (SELL, OrderKind.LIMIT, "ORDER_TYPE_SELL_LIMIT"),
     (SELL, OrderKind.STOP, "ORDER_TYPE_SELL_STOP")],
)
async def test_pending_order_types(broker: MT5Broker, mt5: FakeMT5, req: object, kind: OrderKind, mt5_type: str) -> None:
    quotes = {"ORDER_TYPE_BUY_STOP": (2400.00, 2400.30), "ORDER_TYPE_SELL_LIMIT": (2399.50, 2399.80),
              "ORDER_TYPE_SELL_STOP": (2400.50, 2400.80)}
    mt5.set_tick("XAUUSD", *quotes[mt5_type], at=int(START.timestamp()))
    await broker.place(req, kind)  # type: ignore[arg-type]
    assert mt5.sent[0]["type"] == getattr(mt5, mt5_type)


async def test_market_order_request_fields(broker: MT5Broker, mt5: FakeMT5) -> None:
    order = await broker.place(SELL, OrderKind.MARKET)
    sent = mt5.sent[0]
    assert {k: sent[k] for k in ("action", "type", "price", "deviation", "type_time", "type_filling")} == {
        "action": mt5.TRADE_ACTION_DEAL,
        "type": mt5.ORDER_TYPE_SELL,
        "price": 2400.70,  # a sell deals at the bid
        "deviation": 20,
        "type_time": mt5.ORDER_TIME_GTC,
        "type_filling": mt5.ORDER_FILLING_FOK,  # the symbol allows FOK
    }
    assert "expiration" not in sent
    assert order.status is OrderStatus.OPEN
    [position] = await broker.positions(ACCOUNT)
    assert (position.id, position.side, position.volume, position.open_price) == (order.id, Side.SELL, D("0.2"), D("2400.7"))
    assert (position.stop_loss, position.take_profit, position.opened_at) == (D("2410.0"), D("2380.0"), START)


async def test_market_filling_follows_the_symbol(broker: MT5Broker, mt5: FakeMT5) -> None:
    mt5.symbols["XAUUSD"].filling_mode = mt5.SYMBOL_FILLING_IOC
    await broker.place(BUY, OrderKind.MARKET)
    assert mt5.sent[0]["type_filling"] == mt5.ORDER_FILLING_IOC


async def test_market_order_without_a_tick_waits(broker: MT5Broker, mt5: FakeMT5) -> None:
    with pytest.raises(NoQuote):
        await broker.place(request(Side.BUY, "1.1", "1.0", "1.3", instrument="EURUSD"), OrderKind.MARKET)


async def test_place_is_idempotent_by_comment(broker: MT5Broker, mt5: FakeMT5) -> None:
    first = await broker.place(BUY, OrderKind.LIMIT)
    again = await broker.place(BUY, OrderKind.LIMIT)
    assert (again.id, again.status) == (first.id, OrderStatus.NEW)
    assert len(mt5.sent) == 1

    market = await broker.place(SELL, OrderKind.MARKET)
    assert (await broker.place(SELL, OrderKind.MARKET)).id == market.id
    await broker.close_position(market.id)
    after_close = await broker.place(SELL, OrderKind.MARKET)  # found in history: not sent again
    assert (after_close.id, after_close.status) == (market.id, OrderStatus.CLOSED)

    await broker.cancel(first.id)
    cancelled = await broker.place(BUY, OrderKind.LIMIT)
    assert (cancelled.id, cancelled.status) == (first.id, OrderStatus.CANCELLED)
    assert [r["action"] for r in mt5.sent] == [
        mt5.TRADE_ACTION_PENDING, mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_REMOVE,
    ]


async def test_a_lost_reply_is_unknown_state_and_a_retry_finds_the_order(broker: MT5Broker, mt5: FakeMT5) -> None:
    mt5.lose_next_reply()
    with pytest.raises(BrokerUnavailable, match="state unknown") as raised:
        await broker.place(BUY, OrderKind.LIMIT)
    assert raised.value.retryable
    retried = await broker.place(BUY, OrderKind.LIMIT)
    assert len(mt5.sent) == 1  # the retry found the order by its comment instead of sending another
    assert retried.id == str(mt5.orders_get()[0].ticket)


@pytest.mark.parametrize(
    ("code", "meaning", "retryable"),
    [
        (10004, "requote", True),
        (10006, "request rejected", False),
        (10013, "invalid request", False),
        (10014, "invalid volume", False),
        (10016, "invalid stops", False),
        (10018, "market is closed", True),
        (10019, "not enough money", False),
        (10031, "no connection", True),
        (12345, "unexpected retcode 12345", False),
    ],
)
async def test_retcodes_become_clear_errors(broker: MT5Broker, mt5: FakeMT5, code: int, meaning: str, retryable: bool) -> None:
    mt5.script_retcode(code)
    with pytest.raises(BrokerRejected, match=f"MT5 refused buy XAUUSD: {meaning}.*retcode {code}") as raised:
        await broker.place(BUY, OrderKind.LIMIT)
    assert (raised.value.code, raised.value.retryable) == (code, retryable)


def test_every_mapped_retcode_has_a_meaning() -> None:
    assert {10004, 10006, 10013, 10014, 10016, 10018, 10019} <= RETCODES.keys()


@pytest.mark.parametrize(
    ("req", "code"),
    [
        (request(Side.BUY, "2400.50", "2390.00", "2420.00", volume="0.015"), 10014),  # not a multiple of the step
        (request(Side.BUY, "2400.50", "2401.00", "2420.00"), 10016),  # stop above a buy's entry
        (request(Side.BUY, "2401.10", "2390.00", "2420.00"), 10015),  # a buy limit above the ask
        (request(Side.BUY, "2400.40", "2390.00", "2420.00", expiry_hours=-1), 10022),
    ],
)
async def test_order_check_refuses_before_anything_is_sent(broker: MT5Broker, mt5: FakeMT5, req: object, code: int) -> None:
    with pytest.raises(BrokerRejected) as raised:
        await broker.place(req, OrderKind.LIMIT)  # type: ignore[arg-type]
    assert raised.value.code == code
    assert mt5.sent == []


async def test_close_position_reports_the_deal(broker: MT5Broker, mt5: FakeMT5) -> None:
    order = await broker.place(BUY, OrderKind.MARKET)  # bought at the ask 2401.00
    mt5.set_tick("XAUUSD", 2410.00, 2410.30, at=int(START.timestamp()) + 60)
    closed = await broker.close_position(order.id, CloseReason.TAKE_PROFIT)
    close_request = mt5.sent[-1]
    assert {k: close_request[k] for k in ("action", "type", "position", "price", "volume", "magic")} == {
        "action": mt5.TRADE_ACTION_DEAL, "type": mt5.ORDER_TYPE_SELL, "position": int(order.id), "price": 2410.00,
        "volume": 0.10, "magic": 777,
    }
    # (2410.00 - 2401.00) * 0.10 * 100 = 90.00 profit, less the fake's 0.70 commission
    assert (closed.close_price, closed.pnl, closed.close_reason) == (D("2410.0"), D("89.30"), CloseReason.TAKE_PROFIT)
    assert await broker.positions(ACCOUNT) == []
    assert await broker.account_equity(ACCOUNT) == D("10090.0")
    with pytest.raises(TradeNotFound):
        await broker.close_position(order.id)


async def test_cancel(broker: MT5Broker, mt5: FakeMT5) -> None:
    order = await broker.place(BUY, OrderKind.LIMIT)
    await broker.cancel(order.id)
    assert mt5.sent[-1] == {"action": mt5.TRADE_ACTION_REMOVE, "order": int(order.id), "magic": 777}
    assert mt5.orders_get() == ()
    with pytest.raises(TradeNotFound):
        await broker.cancel(order.id)


async def test_pending_orders_are_the_desks_own(broker: MT5Broker, mt5: FakeMT5) -> None:
    foreign = {"action": mt5.TRADE_ACTION_PENDING, "symbol": "XAUUSD", "volume": 0.1, "type": mt5.ORDER_TYPE_BUY_LIMIT,
               "price": 2300.00, "sl": 0.0, "tp": 0.0, "magic": 1, "comment": "manual", "type_time": 0, "type_filling": 0}
    assert mt5.order_send(foreign).retcode == mt5.TRADE_RETCODE_PLACED  # someone else's order on the terminal
    limit = await broker.place(BUY, OrderKind.LIMIT)
    await broker.place(SELL, OrderKind.MARKET)  # filled at once: a position, not a pending order

    assert await broker.pending_order_ids(ACCOUNT) == [limit.id]
    with pytest.raises(TradeNotFound, match="trader-222"):
        await broker.pending_order_ids("trader-222")
    mt5.shutdown()
    with pytest.raises(BrokerUnavailable, match="orders_get"):
        await broker.pending_order_ids(ACCOUNT)


async def test_only_the_desks_positions_and_only_its_account(broker: MT5Broker, mt5: FakeMT5) -> None:
    foreign = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "XAUUSD", "volume": 0.1, "type": mt5.ORDER_TYPE_BUY,
               "price": 2401.00, "sl": 0.0, "tp": 0.0, "magic": 1, "comment": "manual", "type_time": 0, "type_filling": 0}
    assert mt5.order_send(foreign).retcode == mt5.TRADE_RETCODE_DONE  # someone else's position on the terminal
    assert await broker.positions(ACCOUNT) == []
    with pytest.raises(TradeNotFound, match="trader-222"):
        await broker.positions("trader-222")
    with pytest.raises(TradeNotFound):
        await broker.place(request(Side.BUY, "2400.50", "2390.00", "2420.00", account="trader-222"), OrderKind.LIMIT)


async def test_server_time_offset_shifts_expiration(mt5: FakeMT5) -> None:
    broker = MT5Broker(ACCOUNT, LOGIN, FakeClock(START), module=mt5, server_utc_offset=timedelta(hours=2))
    await broker.connect()
    await broker.place(BUY, OrderKind.LIMIT)
    await broker.close()
    assert mt5.sent[0]["expiration"] == int(START.timestamp()) + 102 * HOUR


async def test_calls_run_off_the_event_loop_on_one_thread(broker: MT5Broker, mt5: FakeMT5) -> None:
    await broker.place(BUY, OrderKind.LIMIT)
    await broker.account_equity(ACCOUNT)
    assert mt5.call_threads and threading.current_thread().name not in mt5.call_threads
    assert len(mt5.call_threads) == 1 and next(iter(mt5.call_threads)).startswith("mt5")
