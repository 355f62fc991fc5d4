"""QuoteIntake on a real quote store (SQLite and PostgreSQL) and a real paper broker; only the people told
(the trader notifier and ops alerts) are fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.brokers.paper import PaperBroker
from core.errors import StorageUnavailable
from core.memory_trade_store import InMemoryTradeStore
from core.notify import OpsAlert, Severity
from core.orders import OrderKind, OrderStatus
from core.quote_intake import QuoteIntake
from core.quotes import Quote, QuoteGuard, QuoteProblem
from core.signals import Side
from core.trades import TradeEvent, TradeEventKind
from storage.batch_runner import BatchRunner
from storage.quote_store import SqlQuoteStore
from tests.execution.db_support import migrated
from tests.execution.exec_support import TABLE, D, quote, request
from tests.execution.execution_desk import Told
from tests.support import START, FakeClock

P = QuoteProblem
BUY_LIMIT = request(Side.BUY, "2400.50", "2390.00", "2420.00")


class FailingOnce(SqlQuoteStore):
    """The real store, whose first write fails as if the database had gone away."""

    failed = False

    async def record(self, quotes: Sequence[Quote]) -> None:
        if not self.failed:
            self.failed = True
            raise StorageUnavailable("the database is unavailable")
        await super().record(quotes)


class BrokenBroker:
    async def on_quote(self, quote: Quote) -> list[TradeEvent]:
        raise RuntimeError("disk full")


@dataclass
class Parts:
    runner: BatchRunner
    clock: FakeClock
    told: Told
    trades: InMemoryTradeStore
    broker: PaperBroker

    def store(self, kind: type[SqlQuoteStore] = SqlQuoteStore) -> SqlQuoteStore:
        return kind(self.runner, bar_period=timedelta(hours=1))

    def intake(self, store: SqlQuoteStore | None = None, paper: object = "paper") -> QuoteIntake:
        """A fresh intake (a fresh guard: as after a restart) over the shared database."""
        guard = QuoteGuard(self.clock, max_jump_ratio=D(10), max_future_skew=timedelta(seconds=5))
        broker = self.broker if paper == "paper" else paper
        return QuoteIntake(guard, store or self.store(), self.told, self.told, broker)  # type: ignore[arg-type]


@pytest.fixture
async def parts(database_url: str) -> AsyncIterator[Parts]:
    async with migrated(database_url) as new_runner:
        clock = FakeClock(START + timedelta(seconds=10))
        trades = InMemoryTradeStore()
        broker = PaperBroker(trades, clock, TABLE, starting_balance=D(10000))
        yield Parts(new_runner(), clock, Told(), trades, broker)


async def test_refused_quotes_are_never_stored_or_traded_on_and_ops_hear_of_them(parts: Parts) -> None:
    order = await parts.broker.place(BUY_LIMIT, OrderKind.LIMIT)
    intake, store = parts.intake(), parts.store()

    verdicts = await intake.submit([
        quote("2401.00", "2401.30", 1),
        quote("239.00", "239.30", 2),  # under a tenth of the price: would fill the buy limit at 2400.50
        quote("2400.90", "2401.20", 0),  # older than the last accepted one
        quote("2400.80", "2401.10", 3),
        quote("1.0712", "1.0714", 3, instrument="EURUSD"),
    ])

    assert [v.problem for v in verdicts] == [None, P.JUMP, P.OUT_OF_ORDER, None, None]
    assert "jump" in verdicts[1].detail and "older than the last quote" in verdicts[2].detail
    assert await store.latest_quote("XAUUSD") == quote("2400.80", "2401.10", 3)
    bars = await store.candles("XAUUSD", timeframe=timedelta(hours=1), limit=5)
    assert [(b.low, b.close) for b in bars] == [(D("2400.80"), D("2400.80"))]  # 239.00 never reached a bar
    assert (await parts.broker.positions("trader-111"), parts.told.events) == ([], [])
    assert [o.id for o in await parts.trades.orders(status=OrderStatus.NEW)] == [order.id]
    assert intake.counts() == {None: 3, P.JUMP: 1, P.OUT_OF_ORDER: 1}
    assert parts.told.alerts == [OpsAlert(
        "quote_refused", Severity.WARNING,
        f"2 XAUUSD quotes refused; the first (jump): {verdicts[1].detail}", "XAUUSD", "refused it; nothing traded on it",
    )]


async def test_accepted_quotes_drive_the_paper_broker_and_the_trader_hears_of_fills_and_closes(parts: Parts) -> None:
    await parts.broker.place(BUY_LIMIT, OrderKind.LIMIT)
    intake = parts.intake()

    await intake.submit([quote("2401.00", "2401.30", 1), quote("2400.20", "2400.50", 2)])
    assert [e.kind for e in parts.told.events] == [TradeEventKind.FILLED]
    await intake.submit([quote("2420.10", "2420.40", 3)])

    assert [e.kind for e in parts.told.events] == [TradeEventKind.FILLED, TradeEventKind.CLOSED]
    assert parts.told.events[1].position is not None and parts.told.events[1].position.pnl == D("196.00")
    assert parts.told.alerts == []


async def test_a_restarted_intake_judges_against_the_stored_quote(parts: Parts) -> None:
    await parts.intake().submit([quote("2401.00", "2401.30", 3)])
    restarted = parts.intake()

    verdicts = await restarted.submit([
        quote("2401.00", "2401.30", 3),  # the very quote stored before the restart
        quote("2400.00", "2400.30", 2),
        quote("24100.00", "24100.30", 4),
        quote("2402.00", "2402.30", 4),
    ])
    assert [v.problem for v in verdicts] == [P.DUPLICATE, P.OUT_OF_ORDER, P.JUMP, None]


async def test_a_batch_that_could_not_be_stored_counts_for_nothing_and_may_be_sent_again(parts: Parts) -> None:
    await parts.broker.place(BUY_LIMIT, OrderKind.LIMIT)
    store = parts.store(FailingOnce)
    intake = parts.intake(store)
    batch = [quote("2401.00", "2401.30", 1), quote("2400.20", "2400.50", 2), quote("1.0", "1.1", 3)]

    with pytest.raises(StorageUnavailable):
        await intake.submit(batch)
    assert (intake.counts(), parts.told.alerts, parts.told.events) == ({}, [], [])
    assert await store.latest_quote("XAUUSD") is None

    verdicts = await intake.submit(batch)  # the producer's retry
    assert [v.problem for v in verdicts] == [None, None, P.JUMP]
    assert [e.kind for e in parts.told.events] == [TradeEventKind.FILLED]


async def test_a_failing_paper_broker_is_reported_and_the_quotes_still_count(parts: Parts) -> None:
    intake = parts.intake(paper=BrokenBroker())

    verdicts = await intake.submit([quote("2401.00", "2401.30", 1), quote("2401.10", "2401.40", 2)])

    assert all(v.accepted for v in verdicts)
    assert await parts.store().latest_quote("XAUUSD") == quote("2401.10", "2401.40", 2)
    assert [(a.kind, a.severity, a.subject) for a in parts.told.alerts] == [("paper_broker_failed", Severity.CRITICAL, "XAUUSD")]
    assert "RuntimeError: disk full" in parts.told.alerts[0].what


async def test_with_a_live_broker_quotes_are_only_stored(parts: Parts) -> None:
    await parts.broker.place(BUY_LIMIT, OrderKind.LIMIT)
    intake = parts.intake(paper=None)

    await intake.submit([quote("2400.20", "2400.50", 1)])

    assert await parts.store().latest_quote("XAUUSD") == quote("2400.20", "2400.50", 1)
    assert parts.told.events == []  # the live broker fills on its own prices; the paper book is untouched
