"""A CSV price file replayed through the QuoteIntake into a paper broker on the SQL trade store (SQLite and
PostgreSQL): bad rows are refused and alerted, good ones fill a pending order and close it at its target,
and the trader hears of both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.brokers.paper import PaperBroker
from bot.config import FeedSettings
from bot.feeds.csv_replay import load_price_file
from bot.feeds.replay_runner import QuoteReplay, csv_replay
from core.orders import OrderKind
from core.quote_intake import QuoteIntake
from core.quotes import QuoteGuard, QuoteProblem
from core.signals import Side
from core.trades import CloseReason, TradeEventKind
from storage.quote_store import SqlQuoteStore
from storage.trade_store import SqlTradeStore
from tests.execution.db_support import migrated
from tests.execution.exec_support import TABLE, D, request
from tests.execution.execution_desk import Told
from tests.support import START, FakeClock

# Ten months before the desk's clock: kept, these times would be older than any order.
TICKS = """time,instrument,bid,ask
2026-01-05T10:00:00Z,XAUUSD,2401.00,2401.30
2026-01-05T10:00:01Z,XAUUSD,239.00,239.30
2026-01-05T10:00:02Z,XAUUSD,2400.20,2400.50
2026-01-05T10:00:01Z,XAUUSD,2425.00,2425.30
2026-01-05T10:00:02Z,XAUUSD,2400.20,2400.50
2026-01-05T10:00:03Z,XAUUSD,2410.00,2410.30
2026-01-05T10:00:04Z,XAUUSD,2420.10,2420.40
"""
BARS = """,Open,High,Low,Close,Volume
2026-01-05 08:00:00,1.0716,1.0722,1.07083,1.07219,1413
2026-01-05 09:00:00,1.07214,1.07296,1.07214,1.0726,1241
"""


@dataclass
class Desk:
    clock: FakeClock
    trades: SqlTradeStore
    prices: SqlQuoteStore
    broker: PaperBroker
    told: Told
    intake: QuoteIntake


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async with migrated(database_url) as new_runner:
        runner, clock = new_runner(), FakeClock(START)
        trades, prices, told = SqlTradeStore(runner), SqlQuoteStore(runner, bar_period=timedelta(hours=1)), Told()
        broker = PaperBroker(trades, clock, TABLE, starting_balance=D(10000), prices=prices)
        guard = QuoteGuard(clock, max_jump_ratio=D(10), max_future_skew=timedelta(seconds=5))
        yield Desk(clock, trades, prices, broker, told, QuoteIntake(guard, prices, told, told, broker))


async def test_a_replayed_file_fills_a_pending_buy_and_takes_profit(desk: Desk, tmp_path: Path) -> None:
    (tmp_path / "ticks.csv").write_text(TICKS)
    await desk.broker.place(request(Side.BUY, "2400.50", "2390.00", "2420.00"), OrderKind.LIMIT)

    async def sleep(seconds: float) -> None:  # the replay's pauses pass on the desk's clock, not the test's
        desk.clock.advance(seconds)

    quotes = load_price_file(tmp_path / "ticks.csv", TABLE).quotes
    accepted = await QuoteReplay(quotes, desk.intake, desk.clock, quotes_per_second=2, sleep=sleep).run()

    assert accepted == 4
    assert desk.intake.counts() == {None: 4, QuoteProblem.JUMP: 1, QuoteProblem.OUT_OF_ORDER: 1, QuoteProblem.DUPLICATE: 1}
    events = desk.told.events
    assert [(e.kind, e.position.close_reason if e.position else None) for e in events] == [
        (TradeEventKind.FILLED, None), (TradeEventKind.CLOSED, CloseReason.TAKE_PROFIT),
    ]
    closed = events[1].position
    assert closed is not None
    # Filled at the ask 2400.50 (the 239.00 tick was refused), closed at the bid 2420.10: 19.60 * 0.10 * 100
    assert (closed.open_price, closed.close_price, closed.pnl) == (D("2400.50"), D("2420.10"), D("196.00"))
    # Stamped on the desk's clock, half a second apart: the fill came with the third row, the close the seventh.
    assert (closed.opened_at, closed.closed_at) == (START + timedelta(seconds=1), START + timedelta(seconds=3))
    account = await desk.trades.account("trader-111")
    assert account is not None and account.balance == D("10196.00")
    assert [a.kind for a in desk.told.alerts] == ["quote_refused"] * 3
    latest = await desk.prices.latest_quote("XAUUSD")
    assert latest is not None and (latest.bid, latest.time) == (D("2420.10"), START + timedelta(seconds=3))


async def test_a_bar_file_loads_its_history_and_its_replay_stops_with_the_desk(desk: Desk, tmp_path: Path) -> None:
    (tmp_path / "eurusd.csv").write_text(BARS)
    feed = FeedSettings(csv=str(tmp_path / "eurusd.csv"), instrument="EURUSD", quotes_per_second=0.001)

    async with csv_replay(feed, TABLE, desk.intake, desk.prices, desk.clock) as task:
        history = await desk.prices.candles("EURUSD", timeframe=timedelta(hours=1), limit=10)
        assert [(c.time.hour, c.open, c.close) for c in history[:2]] == [(8, D("1.0716"), D("1.07219")), (9, D("1.07214"), D("1.0726"))]
    assert task.cancelled()  # a 1000 s pause after the first quote: stopped, not waited for
