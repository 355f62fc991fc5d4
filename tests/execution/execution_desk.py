"""A real execution path on a real database for tests: approvals recorded by the approval service, the SQL
execution queue, the paper broker on the SQL trade store; only the people (notifier, ops) are fakes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bot.brokers.paper import PaperBroker
from core.accounts import AccountMap
from core.approvals import ApprovalService, Decision
from core.execution import ExecutionService, ExecutionSettings
from core.execution_check import ExecutionPolicy
from core.notify import DrawdownNote, ExecutionNote, OpsAlert
from core.order_rules import OrderRules
from core.quotes import Quote
from core.roles import Roles
from core.trades import TradeEvent
from storage.batch_runner import BatchRunner
from storage.decision_store import SqlDecisionStore
from storage.execution_queue import SqlExecutionQueue
from storage.models import DecisionRow, SignalRow
from storage.trade_store import SqlTradeStore
from tests.execution.exec_support import TABLE
from tests.support import FakeClock

TRADERS = (111, 222)
RULES = OrderRules(min_stop_distance_points=5, min_reward_risk=Decimal("1.5"), expiry_hours=100)
SETTINGS = ExecutionSettings(
    rules=RULES, policy=ExecutionPolicy(max_slippage_points=50), risk_percent=Decimal(1), batch=10,
    lease=timedelta(seconds=60), max_attempts=3,
)


@dataclass
class Told:
    """Everything the desk told people, in order."""

    notes: list[ExecutionNote] = field(default_factory=list)
    events: list[TradeEvent] = field(default_factory=list)
    alerts: list[OpsAlert] = field(default_factory=list)

    async def execution(self, note: ExecutionNote) -> None:
        self.notes.append(note)

    async def trade_events(self, events: Sequence[TradeEvent]) -> None:
        self.events.extend(events)

    async def drawdown(self, note: DrawdownNote) -> None:
        raise AssertionError("no drawdown expected here")

    async def alert(self, alert: OpsAlert) -> None:
        self.alerts.append(alert)


class LatestQuotes:
    """A PriceFeed holding the latest quote per instrument."""

    def __init__(self) -> None:
        self.quotes: dict[str, Quote] = {}

    async def latest_quote(self, instrument: str) -> Quote | None:
        return self.quotes.get(instrument)

    async def candles(self, instrument: str, *, timeframe: timedelta, limit: int) -> list[Any]:
        return []


class Blocks:
    def __init__(self) -> None:
        self.blocked: set[str] = set()

    async def is_blocked(self, account_id: str) -> bool:
        return account_id in self.blocked


@dataclass
class ExecutionDesk:
    runner: BatchRunner
    clock: FakeClock
    broker: PaperBroker
    trade_store: SqlTradeStore
    prices: LatestQuotes
    told: Told
    blocks: Blocks
    approvals: ApprovalService

    def service(self, worker: str = "worker-1", broker: Any = None) -> ExecutionService:
        return ExecutionService(
            SqlExecutionQueue(self.runner), broker or self.broker, self.prices, TABLE, self.blocks,
            AccountMap(frozenset(TRADERS)), self.told, self.told, self.clock, SETTINGS, worker,
        )

    async def quote(self, bid: str, ask: str, instrument: str = "XAUUSD") -> None:
        quote = Quote(instrument, Decimal(bid), Decimal(ask), self.clock.now())
        self.prices.quotes[instrument] = quote
        self.told.events.extend(await self.broker.on_quote(quote))

    async def signal(
        self, price: str = "2400.50", stop: str = "2390", target: str = "2420", side: str = "buy", instrument: str = "XAUUSD"
    ) -> str:
        signal_id = str(uuid.uuid4())
        now = self.clock.now()
        values = dict(
            id=signal_id, producer_id="alpha", instrument=instrument, side=side, price=Decimal(price),
            stop_loss=Decimal(stop), take_profit=Decimal(target), time=now, version=1, status="new",
            request_digest="0" * 64, created_at=now, updated_at=now,
        )
        await self.runner.run(lambda conn: conn.execute(SignalRow.__table__.insert().values(values)))
        return signal_id

    async def approve(self, signal_id: str, trader_id: int = TRADERS[0]) -> None:
        await self.approvals.decide(signal_id, trader_id, trader_id, Decision.APPROVE)

    async def executions(self) -> dict[tuple[str, int], Any]:
        table = DecisionRow.__table__
        rows = await self.runner.run(lambda conn: conn.execute(select(table)).all())
        return {(row.signal_id, row.trader_id): row for row in rows}

    async def signal_status(self, signal_id: str) -> str:
        table = SignalRow.__table__
        return await self.runner.run(lambda conn: conn.execute(select(table.c.status).where(table.c.id == signal_id)).scalar_one())


def execution_desk(runner: BatchRunner, clock: FakeClock) -> ExecutionDesk:
    trade_store = SqlTradeStore(runner)
    broker = PaperBroker(trade_store, clock, TABLE, starting_balance=Decimal(10000))
    roles = Roles.of(list(TRADERS), [], [])
    approvals = ApprovalService(SqlDecisionStore(runner), roles, clock, timedelta(minutes=60), "1")
    return ExecutionDesk(runner, clock, broker, trade_store, LatestQuotes(), Told(), Blocks(), approvals)
