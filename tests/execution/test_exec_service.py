"""From approval to order on a real database (SQLite and PostgreSQL): what the trader is told, what the
broker holds, that no approval is lost or executed twice, and how the signal's life ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import BrokerRejected, BrokerUnavailable
from core.order_builder import build_order_request
from core.notify import ExecutionNoteKind, Severity
from core.orders import OrderKind, OrderStatus
from storage import migrate
from storage.audit_log import read_chain
from storage.batch_runner import batch_runner_for
from storage.database import create_engine
from storage.execution_queue import SqlExecutionQueue
from tests.execution.exec_support import TABLE
from tests.execution.execution_desk import RULES, SETTINGS, TRADERS, ExecutionDesk, execution_desk
from tests.support import FakeClock


@pytest.fixture
async def desk(database_url: str, clock: FakeClock) -> AsyncIterator[ExecutionDesk]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    runner = batch_runner_for(engine)
    yield execution_desk(runner, clock)
    await runner.close()
    await engine.dispose()


async def test_an_approval_becomes_a_pending_order_and_the_trader_is_told(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    signal_id = await desk.signal()
    await desk.approve(signal_id)

    assert await desk.service().run_once() == 1

    [note] = desk.told.notes
    assert note.kind is ExecutionNoteKind.PLACED and note.trader_id == TRADERS[0]
    assert note.order is not None and note.order.kind is OrderKind.LIMIT and note.order.status is OrderStatus.NEW
    # 1 % of 10,000 over a 10.50 stop on gold (contract 100): 100 / 1050 = 0.095 -> 0.09 lots.
    assert note.order.request.volume == Decimal("0.09")
    execution = (await desk.executions())[(signal_id, TRADERS[0])]
    assert (execution.execution, execution.order_id) == ("placed", note.order.id)
    assert await desk.signal_status(signal_id) == "executed"
    events = [entry.event for entry in await desk.runner.run(lambda conn: list(read_chain(conn)))]
    assert events == ["decision", "order_placed"]
    assert await desk.service().run_once() == 0  # nothing left to do


async def test_the_order_fills_when_the_market_reaches_the_entry(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    await desk.approve(await desk.signal())
    await desk.service().run_once()

    await desk.quote("2400.20", "2400.50")

    assert [event.kind for event in desk.told.events] == ["filled"]
    [position] = await desk.broker.positions("tg-111")
    assert position.open_price == Decimal("2400.50")


async def test_without_a_quote_the_order_waits_and_the_trader_is_told_once(desk: ExecutionDesk) -> None:
    signal_id = await desk.signal()
    await desk.approve(signal_id)
    service = desk.service()

    await service.run_once()
    desk.clock.advance(10)
    await service.run_once()
    assert [n.kind for n in desk.told.notes] == [ExecutionNoteKind.WAITING]
    assert "no quote for XAUUSD" in desk.told.notes[0].detail

    await desk.quote("2400.30", "2400.60")
    desk.clock.advance(10)
    await service.run_once()
    assert [n.kind for n in desk.told.notes] == [ExecutionNoteKind.WAITING, ExecutionNoteKind.PLACED]
    assert (await desk.executions())[(signal_id, TRADERS[0])].execution == "placed"


async def test_an_order_in_another_currency_waits_for_a_quote_that_converts_it_then_is_sized_in_dollars(desk: ExecutionDesk) -> None:
    await desk.quote("0.84990", "0.85010", instrument="EURGBP")
    signal_id = await desk.signal("0.85000", "0.84800", "0.85400", instrument="EURGBP")
    await desk.approve(signal_id)

    await desk.service().run_once()

    [waiting] = desk.told.notes
    assert waiting.kind is ExecutionNoteKind.WAITING
    assert waiting.detail == "no quote for GBPUSD or USDGBP to size the order in USD yet; the order waits for one"

    await desk.quote("1.24990", "1.25010", instrument="GBPUSD")
    desk.clock.advance(5)
    await desk.service().run_once()

    placed = desk.told.notes[-1]
    # A stop 0.00200 away loses 200 GBP a lot = 250 USD at 1.25: 1 % of 10,000 buys 0.40 lots.
    assert placed.kind is ExecutionNoteKind.PLACED and placed.order is not None
    assert placed.order.request.volume == Decimal("0.40")


@pytest.mark.parametrize(
    ("bid", "ask", "reason"),
    [
        ("2389.00", "2389.30", "price already moved past the stop"),
        ("2402.00", "2402.30", "points from the entry"),  # 180 points of slippage, at most 50 allowed
    ],
)
async def test_a_market_that_no_longer_fits_refuses_the_order(desk: ExecutionDesk, bid: str, ask: str, reason: str) -> None:
    await desk.quote(bid, ask)
    signal_id = await desk.signal()
    await desk.approve(signal_id)

    await desk.service().run_once()

    [note] = desk.told.notes
    assert note.kind is ExecutionNoteKind.REFUSED and reason in note.detail
    assert await desk.broker.positions("tg-111") == []
    assert await desk.trade_store.orders(status=OrderStatus.NEW) == []
    assert (await desk.executions())[(signal_id, TRADERS[0])].execution == "refused"
    assert await desk.signal_status(signal_id) == "approved"  # another trader may still approve it


async def test_a_blocked_account_places_nothing(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    desk.blocks.blocked.add("tg-111")
    signal_id = await desk.signal()
    await desk.approve(signal_id, TRADERS[0])
    await desk.approve(signal_id, TRADERS[1])

    await desk.service().run_once()

    kinds = {note.trader_id: note.kind for note in desk.told.notes}
    assert kinds == {TRADERS[0]: ExecutionNoteKind.BLOCKED, TRADERS[1]: ExecutionNoteKind.PLACED}
    assert "drawdown" in desk.told.notes[0].detail


class FailingBroker:
    """The paper broker, except that placing fails the first `failures` times."""

    def __init__(self, desk: ExecutionDesk, error: Exception, failures: int) -> None:
        self._desk = desk
        self._error = error
        self.failures = failures

    async def account_equity(self, account_id: str) -> Decimal:
        return await self._desk.broker.account_equity(account_id)

    async def place(self, request: object, kind: object) -> object:
        if self.failures:
            self.failures -= 1
            raise self._error
        return await self._desk.broker.place(request, kind)  # type: ignore[arg-type]


async def test_a_broker_outage_is_retried_with_backoff_then_the_order_goes_through(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    await desk.approve(await desk.signal())
    service = desk.service(broker=FailingBroker(desk, BrokerUnavailable("connection refused"), failures=2))

    await service.run_once()
    assert await service.run_once() == 0  # backing off: not due yet
    desk.clock.advance(2)
    await service.run_once()
    desk.clock.advance(3)
    assert await service.run_once() == 0  # the second wait is twice as long
    desk.clock.advance(1)
    await service.run_once()

    assert [n.kind for n in desk.told.notes] == [ExecutionNoteKind.PLACED]
    assert desk.told.alerts == []


async def test_retries_exhausted_marks_the_approval_failed_and_alerts_ops(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    signal_id = await desk.signal()
    await desk.approve(signal_id)
    service = desk.service(broker=FailingBroker(desk, BrokerUnavailable("connection refused"), failures=99))

    for _ in range(3):
        await service.run_once()
        desk.clock.advance(60)

    [note] = desk.told.notes
    assert note.kind is ExecutionNoteKind.FAILED and "after 3 attempts: connection refused" in note.detail
    [alert] = desk.told.alerts
    assert (alert.kind, alert.severity, alert.subject) == ("broker_retries_exhausted", Severity.CRITICAL, "account tg-111")
    assert (await desk.executions())[(signal_id, TRADERS[0])].execution == "failed"
    assert await service.run_once() == 0


async def test_a_broker_rejection_is_not_retried(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    await desk.approve(await desk.signal())
    rejection = BrokerRejected("MT5 refused the order: not enough money (retcode 10019)", code=10019)

    await desk.service(broker=FailingBroker(desk, rejection, failures=1)).run_once()

    assert [n.kind for n in desk.told.notes] == [ExecutionNoteKind.FAILED]
    assert "not enough money" in desk.told.notes[0].detail
    assert [a.kind for a in desk.told.alerts] == ["broker_rejected"]


async def test_a_worker_that_died_after_placing_is_replaced_without_a_second_order(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    await desk.approve(await desk.signal())
    # A worker claimed the approval and placed its order, then died before recording it.
    [claimed] = await SqlExecutionQueue(desk.runner).claim("dead", desk.clock.now(), SETTINGS.lease, 10)
    request = build_order_request(
        claimed.signal, account_id="tg-111", equity=Decimal(10000), spec=TABLE.spec("XAUUSD"), rules=RULES,
        risk_percent=SETTINGS.risk_percent, now=desk.clock.now(),
    )
    first = await desk.broker.place(request, OrderKind.LIMIT)

    survivor = desk.service("survivor")
    assert await survivor.run_once() == 0  # the dead worker's lease still holds
    desk.clock.advance(61)
    assert await survivor.run_once() == 1

    [note] = desk.told.notes
    assert note.order is not None and note.order.id == first.id
    assert len(await desk.trade_store.orders(status=OrderStatus.NEW)) == 1


async def test_two_workers_racing_execute_each_approval_once(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    signals = [await desk.signal() for _ in range(15)]
    for signal_id in signals:
        for trader in TRADERS:
            await desk.approve(signal_id, trader)
    workers = [desk.service("a"), desk.service("b")]

    while sum(await asyncio.gather(*(worker.run_once() for worker in workers))):
        pass

    placed = [note for note in desk.told.notes if note.kind is ExecutionNoteKind.PLACED]
    assert len(placed) == 30
    assert len({(note.signal.id, note.trader_id) for note in placed}) == 30
    assert len(await desk.trade_store.orders(status=OrderStatus.NEW)) == 30


WINDOW = 62 * 60  # past the desk's 60-minute approval window and the minute's grace before settling


async def settled(desk: ExecutionDesk) -> list[tuple[str, str]]:
    """What the approval-window job settles now (it expires undecided signals first, as the job does)."""
    await desk.approvals.expire_due()
    return [(signal_id, status.value) for signal_id, status in await desk.approvals.settle_finished()]


async def test_a_signal_whose_approvals_all_ended_without_an_order_is_cancelled_when_its_window_closes(desk: ExecutionDesk) -> None:
    await desk.quote("2389.00", "2389.30")  # past the stop: the approval is refused
    signal_id = await desk.signal()
    await desk.approve(signal_id)
    await desk.service().run_once()
    assert await settled(desk) == []  # another trader may still approve it
    desk.clock.advance(61 * 60)
    assert await settled(desk) == []  # the window has closed, but an approval may still be committing

    desk.clock.advance(60)

    assert await settled(desk) == [(signal_id, "cancelled")]
    assert await desk.signal_status(signal_id) == "cancelled"
    events = [entry.event for entry in await desk.runner.run(lambda conn: list(read_chain(conn)))]
    assert events[-1] == "signal_cancelled"
    assert await settled(desk) == []


async def test_a_signal_with_an_approval_still_executing_is_not_cancelled(desk: ExecutionDesk) -> None:
    signal_id = await desk.signal()
    await desk.approve(signal_id)
    await desk.service().run_once()  # no quote yet: the approval waits for one
    desk.clock.advance(WINDOW)

    assert await settled(desk) == []

    await desk.quote("2400.30", "2400.60")
    await desk.service().run_once()
    assert await desk.signal_status(signal_id) == "executed"


async def test_an_executed_signal_closes_when_its_window_has_closed_and_every_position_has(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    signal_id = await desk.signal()
    for trader in TRADERS:
        await desk.approve(signal_id, trader)
    await desk.service().run_once()
    await desk.quote("2400.20", "2400.50")  # both limit orders fill
    first, second = await desk.broker.positions("tg-111") + await desk.broker.positions("tg-222")
    await desk.broker.close_position(first.id)
    desk.clock.advance(WINDOW)

    assert await settled(desk) == []  # the second trader's position is still open

    await desk.broker.close_position(second.id)

    assert await settled(desk) == [(signal_id, "closed")]
    assert await desk.signal_status(signal_id) == "closed"


async def test_an_executed_signal_whose_order_expired_unfilled_is_closed(desk: ExecutionDesk) -> None:
    await desk.quote("2400.30", "2400.60")
    signal_id = await desk.signal()
    await desk.approve(signal_id)
    await desk.service().run_once()
    desk.clock.advance(WINDOW)
    assert await settled(desk) == []  # the limit order still waits for its price

    desk.clock.advance(RULES.expiry_hours * 3600)
    assert [event.kind for event in await desk.broker.expire_due()] == ["cancelled"]

    assert await settled(desk) == [(signal_id, "closed")]
