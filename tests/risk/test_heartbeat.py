"""The heartbeat job on a real database: one run acts on every account's drawdown, writes its row, and
fills the registry; failures are logged and counted, never raised into the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.heartbeat import Heartbeat, HeartbeatMetrics
from core.accounts import AccountMap
from core.drawdown import DrawdownGuard, DrawdownMeter, DrawdownPolicy
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.database import create_engine
from storage.heartbeat_store import SqlHeartbeats
from storage.models import SignalRow
from storage.risk_store import SqlRiskStore
from tests.risk.risk_fakes import FakeBroker, Told, position
from tests.support import START, FakeClock

D = Decimal
ACCOUNTS = AccountMap(frozenset({111, 222}))


@dataclass
class Beating:
    heartbeat: Heartbeat
    heartbeats: SqlHeartbeats
    broker: FakeBroker
    registry: CollectorRegistry
    told: Told
    clock: FakeClock

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def beating(runner: BatchRunner, broker: FakeBroker) -> Beating:
    clock, told, registry = FakeClock(), Told(), CollectorRegistry()
    guard = DrawdownGuard(DrawdownMeter(SqlRiskStore(runner), broker, ACCOUNTS, DrawdownPolicy(D("0.2"), True, D(10000))), clock, told, told)
    heartbeats = SqlHeartbeats(runner)
    heartbeat = Heartbeat(guard, broker, ACCOUNTS, heartbeats, HeartbeatMetrics(registry), clock, "host-a:42")
    return Beating(heartbeat, heartbeats, broker, registry, told, clock)


@pytest.fixture
async def runner(migrated_engine: AsyncEngine) -> AsyncIterator[BatchRunner]:
    runner = batch_runner_for(migrated_engine)
    yield runner
    await runner.close()


async def _signals(runner: BatchRunner, *statuses: str) -> None:
    rows = [
        dict(id=f"s-{i}", producer_id="alpha", instrument="XAUUSD", side="buy", price=D(2400), stop_loss=D(2390), take_profit=D(2420),
             time=START, version=1, status=status, request_digest="0" * 64, created_at=START, updated_at=START)
        for i, status in enumerate(statuses)
    ]
    await runner.run(lambda conn: conn.execute(SignalRow.__table__.insert(), rows))


async def test_a_beat_acts_on_drawdown_records_its_row_and_fills_the_registry(runner: BatchRunner) -> None:
    broker = FakeBroker({"tg-111": D(7000), "tg-222": D("10500.5")})
    broker.hold(position("p1"), position("q1", account_id="tg-222"), position("q2", account_id="tg-222"))
    await _signals(runner, "new", "approved", "rejected", "expired")
    b = beating(runner, broker)

    await b.heartbeat.beat()

    assert [p.id for p in broker.closed] == ["p1"] and b.told.kinds() == ["drawdown_breach"]
    beat = await b.heartbeats.latest("heartbeat")
    assert beat is not None and (beat.instance, beat.beat_at) == ("host-a:42", START)
    assert beat.data["accounts"] == {
        "tg-111": {"equity": "7000", "peak": "10000", "drawdown": "0.3", "cap": "0.2", "blocked": True, "open_positions": 0},
        "tg-222": {"equity": "10500.5", "peak": "10500.5", "drawdown": "0", "cap": "0.2", "blocked": False, "open_positions": 2},
    }
    assert {k: beat.data[k] for k in ("signals_processed", "orders_executed", "orders_failed", "open_positions", "errors")} == {
        "signals_processed": 3, "orders_executed": 0, "orders_failed": 0, "open_positions": 2, "errors": 0,
    }
    assert b.sample("signaldesk_account_equity", account="tg-222") == 10500.5
    assert b.sample("signaldesk_account_drawdown_ratio", account="tg-111") == 0.3
    assert b.sample("signaldesk_account_blocked", account="tg-111") == 1
    assert b.sample("signaldesk_open_positions", account="tg-222") == 2
    assert b.sample("signaldesk_signals_processed") == 3
    assert b.sample("signaldesk_heartbeats_total") == 1
    assert b.sample("signaldesk_heartbeat_last_timestamp_seconds") == START.timestamp()
    assert b.sample("signaldesk_heartbeat_duration_seconds") == 0  # the fake clock stands still


async def test_each_beat_overwrites_the_row_with_its_time(runner: BatchRunner) -> None:
    b = beating(runner, FakeBroker({"tg-111": D(10000), "tg-222": D(10000)}))
    await b.heartbeat.beat()
    b.clock.advance(10)
    await b.heartbeat.beat()
    beat = await b.heartbeats.latest("heartbeat")
    assert beat is not None and (beat.beat_at - START).total_seconds() == 10
    assert b.sample("signaldesk_heartbeats_total") == 2


async def test_one_account_failing_is_counted_and_the_others_are_still_guarded(runner: BatchRunner) -> None:
    broker = FakeBroker({"tg-222": D(7000)})
    broker.unreachable.add("tg-111")
    broker.hold(position("q1", account_id="tg-222"))
    b = beating(runner, broker)

    await b.heartbeat.beat()

    assert [p.id for p in broker.closed] == ["q1"]
    beat = await b.heartbeats.latest("heartbeat")
    assert beat is not None and beat.data["errors"] == 1
    assert beat.data["accounts"]["tg-111"] == {"error": "BrokerUnavailable: terminal not connected"}
    assert b.sample("signaldesk_heartbeat_errors_total", stage="account") == 1

    broker.unreachable.clear()
    broker.equity["tg-111"] = D(10000)
    await b.heartbeat.beat()
    beat = await b.heartbeats.latest("heartbeat")
    assert beat is not None and beat.data["errors"] == 0 and beat.data["accounts"]["tg-111"]["blocked"] is False


async def test_a_beat_with_the_database_down_logs_counts_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", connect_timeout=1)
    runner = batch_runner_for(engine)
    b = beating(runner, FakeBroker({"tg-111": D(7000), "tg-222": D(10000)}))
    try:
        await b.heartbeat.beat()  # must not raise: the scheduler calls it again next interval
    finally:
        await engine.dispose()
    assert b.sample("signaldesk_heartbeat_errors_total", stage="account") == 2
    assert b.sample("signaldesk_heartbeat_errors_total", stage="totals") == 1
    assert b.sample("signaldesk_heartbeat_errors_total", stage="record") == 1
    assert "event=heartbeat_record_failed" in caplog.text
