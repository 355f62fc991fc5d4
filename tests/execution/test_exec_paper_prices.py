"""A paper broker that was never fed a quote (a restarted process, or a second one) prices from the stored
quotes: it places market orders, marks equity and closes positions like the process that took the quotes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.brokers.paper import PaperBroker
from core.errors import NoQuote
from core.orders import OrderKind, OrderStatus
from core.signals import Side
from core.trades import CloseReason
from storage.batch_runner import BatchRunner
from storage.quote_store import SqlQuoteStore
from storage.trade_store import SqlTradeStore
from tests.execution.db_support import migrated
from tests.execution.exec_support import TABLE, D, quote, request
from tests.support import START, FakeClock


@pytest.fixture
async def runner(database_url: str) -> AsyncIterator[BatchRunner]:
    async with migrated(database_url) as new_runner:
        yield new_runner()


async def test_a_broker_without_quotes_of_its_own_trades_on_the_stored_ones(runner: BatchRunner) -> None:
    clock = FakeClock(START + timedelta(seconds=5))
    trades, prices = SqlTradeStore(runner), SqlQuoteStore(runner, bar_period=timedelta(hours=1))
    await prices.record([quote("2400.20", "2400.50", 1)])  # taken in by another process

    def broker(**kwargs: object) -> PaperBroker:
        return PaperBroker(trades, clock, TABLE, starting_balance=D(10000), **kwargs)  # type: ignore[arg-type]

    with pytest.raises(NoQuote):  # what a restarted broker did before it could ask the store
        await broker().place(request(Side.BUY, "2400.50", "2390.00", "2420.00"), OrderKind.MARKET)

    order = await broker(prices=prices).place(request(Side.BUY, "2400.50", "2390.00", "2420.00"), OrderKind.MARKET)
    assert order.status is OrderStatus.OPEN
    [position] = await trades.open_positions(account_id="trader-111")
    assert position.open_price == D("2400.50")  # the stored ask

    await prices.record([quote("2405.20", "2405.50", 2)])
    second = broker(prices=prices)  # yet another process
    # marked at the stored bid: (2405.20 - 2400.50) * 0.10 * 100 = 47.00
    assert await second.account_equity("trader-111") == D("10047.00")
    closed = await second.close_position(position.id)
    assert (closed.close_price, closed.close_reason, closed.pnl) == (D("2405.20"), CloseReason.MANUAL, D("47.00"))
    account = await trades.account("trader-111")
    assert account is not None and account.balance == D("10047.00")
