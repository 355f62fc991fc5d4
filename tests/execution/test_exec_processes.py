"""Execution across real `signaldesk serve` processes: two of them racing on one PostgreSQL, and one killed
with SIGKILL at random moments and restarted. Every approval ends as exactly one order."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.orders import OrderStatus
from storage import migrate
from storage.audit_log import read_chain
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.database import create_engine
from storage.models import DecisionRow, LatestQuoteRow, TradeOrderRow
from tests.execution.execution_desk import TRADERS, ExecutionDesk, execution_desk
from tests.processes import served_url, start_serve
from tests.support import FakeClock

ROUNDS, PER_ROUND = 3, 34  # 102 approvals (2 traders x 17 signals a round), 3 SIGKILLs


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'signaldesk.db'}"


@asynccontextmanager
async def seeded_desk(database_url: str) -> AsyncIterator[ExecutionDesk]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    runner = batch_runner_for(engine)
    # Approvals are recorded now (the processes run on the system clock, so the seed does too).
    from datetime import UTC, datetime

    clock = FakeClock(current=datetime.now(UTC).replace(microsecond=0))
    yield execution_desk(runner, clock)
    await runner.close()
    await engine.dispose()


def _serve_env(database_url: str, batch: int) -> dict[str, str]:
    return {
        **os.environ,
        "SIGNALDESK_DATABASE__URL": database_url,
        "SIGNALDESK_HTTP__PORT": "0",
        "SIGNALDESK_TELEGRAM__TRADERS": json.dumps(list(TRADERS)),
        "SIGNALDESK_SCHEDULER__EXECUTION_BATCH": str(batch),
        "SIGNALDESK_SCHEDULER__EXECUTION_INTERVAL_SECONDS": "0.2",
        "SIGNALDESK_SCHEDULER__EXECUTION_LEASE_SECONDS": "5",
    }


async def _seed_quote(runner: BatchRunner, desk: ExecutionDesk) -> None:
    row = {"instrument": "XAUUSD", "bid": Decimal("2400.30"), "ask": Decimal("2400.60"), "time": desk.clock.now()}
    await runner.run(lambda conn: conn.execute(LatestQuoteRow.__table__.insert().values(row)))


async def _approve(desk: ExecutionDesk, signals: int) -> None:
    for _ in range(signals):
        signal_id = await desk.signal()
        for trader in TRADERS:
            await desk.approve(signal_id, trader)


async def _wait_until_placed(runner: BatchRunner, expected: int, deadline: float = 120) -> None:
    """Until at least `expected` approvals are placed."""
    decisions = DecisionRow.__table__
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while loop.time() < until:
        placed = await runner.run(
            lambda conn: conn.execute(select(func.count()).where(decisions.c.execution == "placed")).scalar_one()
        )
        if placed >= expected:
            return
        await asyncio.sleep(0.01)  # waiting for other processes to finish, not ordering anything
    raise AssertionError(f"only {placed} of {expected} approvals were executed")


async def _outcome(runner: BatchRunner) -> tuple[dict[str, int], int, int, set[str]]:
    """(approvals by execution state, orders, order_placed audit entries, workers that placed)."""
    decisions, orders = DecisionRow.__table__, TradeOrderRow.__table__

    def read(conn):  # type: ignore[no-untyped-def]
        states = dict(conn.execute(select(decisions.c.execution, func.count()).group_by(decisions.c.execution)).all())
        order_count = conn.execute(select(func.count()).select_from(orders)).scalar_one()
        keys = conn.execute(select(func.count(func.distinct(orders.c.idempotency_key)))).scalar_one()
        assert keys == order_count, "two orders share an idempotency key"
        audited = sum(1 for entry in read_chain(conn) if entry.event == "order_placed")
        workers = set(conn.execute(select(decisions.c.claimed_by).where(decisions.c.execution == "placed")).scalars())
        return states, order_count, audited, workers

    return await runner.run(read)


@pytest.mark.postgres
async def test_two_processes_racing_on_postgresql_execute_each_of_200_approvals_once(pg_database: str) -> None:
    async with seeded_desk(pg_database) as desk:
        await _race(desk, pg_database)


async def _race(desk: ExecutionDesk, database_url: str) -> None:
    await _seed_quote(desk.runner, desk)
    env = _serve_env(database_url, batch=10)
    processes = [await start_serve(env=env) for _ in range(2)]
    try:
        for process in processes:
            await served_url(process)
        await _approve(desk, signals=100)
        await _wait_until_placed(desk.runner, 200)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(process.wait() for process in processes))

    states, orders, audited, workers = await _outcome(desk.runner)
    assert states == {"placed": 200}
    assert (orders, audited) == (200, 200)
    assert len(workers) == 2, "both processes should have taken part"
    assert len(await desk.trade_store.orders(status=OrderStatus.NEW)) == 200


async def test_sigkill_at_random_moments_loses_and_repeats_no_approval(sqlite_database: str) -> None:
    async with seeded_desk(sqlite_database) as desk:
        await _kill_and_restart(desk, sqlite_database)


async def _kill_and_restart(desk: ExecutionDesk, database_url: str) -> None:
    await _seed_quote(desk.runner, desk)
    env = _serve_env(database_url, batch=2)
    rng = random.Random(20261124)
    unfinished_at_kills = []
    for round_ in range(ROUNDS):  # each round of approvals is cut short by a SIGKILL at a random point
        process = await start_serve(env=env)
        try:
            await served_url(process)
            await _approve(desk, signals=PER_ROUND // 2)
            # The kill point is a random number of this round's approvals placed, so it always lands
            # mid-work: some approvals of the round are claimed or still waiting.
            await _wait_until_placed(desk.runner, PER_ROUND * round_ + rng.randint(1, PER_ROUND - 5))
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        states, *_ = await _outcome(desk.runner)
        unfinished_at_kills.append(PER_ROUND * (round_ + 1) - states.get("placed", 0))
    process = await start_serve(env=env)  # a last run finishes whatever the kills left
    try:
        await served_url(process)
        await _wait_until_placed(desk.runner, ROUNDS * PER_ROUND)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()

    states, orders, audited, _ = await _outcome(desk.runner)
    print(f"approvals left unfinished by each SIGKILL: {unfinished_at_kills}; finally: {states}; orders: {orders}")
    assert all(left > 0 for left in unfinished_at_kills)
    assert states == {"placed": ROUNDS * PER_ROUND}
    assert (orders, audited) == (ROUNDS * PER_ROUND, ROUNDS * PER_ROUND)
