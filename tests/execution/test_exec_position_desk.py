"""PositionDesk: every way a /close or a /closeall can end, on the paper broker over the in-memory store."""

from __future__ import annotations

import pytest

from bot.brokers.paper import PaperBroker
from core.accounts import AccountMap
from core.errors import BrokerRejected
from core.memory_trade_store import InMemoryTradeStore
from core.orders import Order, OrderKind, OrderStatus
from core.position_desk import CloseOutcome, PositionDesk, parse_position_id, short_position_id
from core.signals import Side
from core.trades import Account, CloseReason, Fill, FillKind, Position, TradeEventKind
from tests.execution.exec_support import TABLE, D, quote, request
from tests.execution.execution_desk import Told
from tests.support import START, FakeClock

ALICE, BOB = 111, 222
ACCOUNTS = AccountMap(frozenset({ALICE, BOB}))
FULL_ID = "0190aaaa-0000-7000-8000-00001a2b3c4d"


class RejectingBroker(PaperBroker):
    """The paper broker, except that the market refuses every close."""

    async def close_position(self, position_id: str, reason: CloseReason = CloseReason.MANUAL) -> Position:
        raise BrokerRejected("market closed", code=10018)


@pytest.fixture
def store() -> InMemoryTradeStore:
    return InMemoryTradeStore()


def broker_on(store: InMemoryTradeStore, kind: type[PaperBroker] = PaperBroker) -> PaperBroker:
    return kind(store, FakeClock(START), TABLE, starting_balance=D(10000))


async def seed(store: InMemoryTradeStore, trader: int, position_id: str, instrument: str = "XAUUSD") -> Position:
    """An open position stored directly, as if filled by an earlier process: this broker has no quote for it."""
    r = request(Side.BUY, "2400.50", "2390.00", "2420.00", instrument=instrument, account=ACCOUNTS.account_of(trader), signal_id=position_id)
    order = await store.add_order(Order(position_id, r, OrderKind.MARKET, OrderStatus.NEW, START))
    position = Position(position_id, r.account_id, position_id, instrument, Side.BUY, r.volume, r.entry, r.stop_loss, r.take_profit, START)
    fill = Fill(f"f-{position_id}", position_id, r.account_id, instrument, Side.BUY, FillKind.OPEN, r.volume, r.entry, START)
    assert await store.fill_order(order.moved_to(OrderStatus.OPEN, START), position, fill)
    await store.open_account(Account(r.account_id, D(10000), D(10000), START))
    return position


@pytest.mark.parametrize(
    ("typed", "digits"),
    [("1a2b3c4d", "1a2b3c4d"), ("#1A2B3C4D", "1a2b3c4d"), (FULL_ID, FULL_ID.replace("-", "")),
     ("3c4d", "3c4d"), ("abc", None), ("zz12345", None), ("", None), ("#", None)],
)
def test_typed_ids(typed: str, digits: str | None) -> None:
    assert parse_position_id(typed) == digits


def test_short_id_is_the_last_eight_hex_digits() -> None:
    assert short_position_id(FULL_ID) == "1a2b3c4d"


async def test_close_outcomes(store: InMemoryTradeStore) -> None:
    alices = await seed(store, ALICE, "0190aaaa-0000-7000-8000-0000000a1111")
    await seed(store, ALICE, "0190aaaa-0000-7000-8000-0000000b1111")
    bobs = await seed(store, BOB, "0190aaaa-0000-7000-8000-0000000c2222")
    broker = broker_on(store)
    desk = PositionDesk(broker, store, ACCOUNTS, Told())

    assert (await desk.close(ALICE, "1111")).outcome is CloseOutcome.AMBIGUOUS
    assert (await desk.close(ALICE, short_position_id(bobs.id))).outcome is CloseOutcome.NOT_YOURS
    assert (await desk.close(ALICE, "ffff")).outcome is CloseOutcome.NOT_FOUND
    no_quote = await desk.close(ALICE, "a1111")
    assert (no_quote.outcome, no_quote.position) == (CloseOutcome.NO_QUOTE, alices)

    await broker.on_quote(quote("2401.00", "2401.30", 5))
    closed = await desk.close(ALICE, "a1111")
    assert closed.outcome is CloseOutcome.CLOSED and closed.position is not None
    assert (closed.position.close_price, closed.position.pnl, closed.position.close_reason) == (D("2401.00"), D("5.0000"), CloseReason.MANUAL)
    again = await desk.close(ALICE, "a1111")
    assert (again.outcome, again.position) == (CloseOutcome.ALREADY_CLOSED, closed.position)


async def test_a_broker_refusal_is_reported_and_the_position_stays_open(store: InMemoryTradeStore) -> None:
    position = await seed(store, ALICE, "0190aaaa-0000-7000-8000-0000000a1111")
    desk = PositionDesk(broker_on(store, RejectingBroker), store, ACCOUNTS, Told())
    failed = await desk.close(ALICE, "a1111")
    assert (failed.outcome, failed.detail) == (CloseOutcome.FAILED, "market closed")
    assert await store.open_positions() == [position]


async def test_close_all_closes_what_it_can_reports_the_rest_and_tells_the_owners(store: InMemoryTradeStore) -> None:
    gold = await seed(store, ALICE, "0190aaaa-0000-7000-8000-0000000a1111")
    silver = await seed(store, BOB, "0190aaaa-0000-7000-8000-0000000c2222", instrument="XAGUSD")
    broker, told = broker_on(store), Told()
    await broker.on_quote(quote("2401.00", "2401.30", 5))  # gold has a price, silver none
    desk = PositionDesk(broker, store, ACCOUNTS, told)
    assert {p.id for p in await desk.open_positions()} == {gold.id, silver.id}

    report = await desk.close_all()
    assert [p.id for p in report.closed] == [gold.id]
    assert [(f.position, f.account_id, f.reason) for f in report.failed] == [(silver, "tg-222", "no quote for XAGUSD yet")]
    assert [(e.kind, e.position) for e in told.events] == [(TradeEventKind.CLOSED, report.closed[0])]
    assert await store.open_positions() == [silver]


async def test_close_all_with_a_refusing_broker_keeps_every_position(store: InMemoryTradeStore) -> None:
    position = await seed(store, ALICE, "0190aaaa-0000-7000-8000-0000000a1111")
    told = Told()
    report = await PositionDesk(broker_on(store, RejectingBroker), store, ACCOUNTS, told).close_all()
    assert report.closed == () and [(f.position, f.reason) for f in report.failed] == [(position, "market closed")]
    assert told.events == [] and await store.open_positions() == [position]
