"""The drawdown guard's store on SQLite and PostgreSQL: the same contract as the in-memory fake, exact
money, and workers racing on one account raising the peak to the true maximum and blocking it once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.drawdown import RiskStore
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.risk_store import SqlRiskStore
from tests.risk.risk_fakes import MemoryRiskStore
from tests.support import START

D = Decimal
A = "tg-111"


async def first_check_stores_the_first_peak(store: RiskStore) -> None:
    state = await store.raise_peak(A, D(9000), first_peak=D(10000), now=START)
    assert (state.account_id, state.peak, state.blocked) == (A, D(10000), False)
    assert await store.state(A) == state and await store.state("tg-222") is None


async def the_peak_only_rises(store: RiskStore) -> None:
    await store.raise_peak(A, D(100), first_peak=D(100), now=START)
    for equity, peak in [("99.99", "100"), ("100.5", "100.5"), ("9", "100.5"), ("1000", "1000"), ("999.9999999999", "1000")]:
        assert (await store.raise_peak(A, D(equity), first_peak=D(1), now=START)).peak == D(peak)


async def text_order_is_not_number_order(store: RiskStore) -> None:
    """On SQLite money is text: "9.5" sorts after "10"; the peak must still go from 9.5 to 10."""
    await store.raise_peak(A, D("9.5"), first_peak=D("9.5"), now=START)
    assert (await store.raise_peak(A, D(10), first_peak=D(1), now=START)).peak == D(10)
    assert (await store.raise_peak(A, D("9.99"), first_peak=D(1), now=START)).peak == D(10)


async def money_stays_exact(store: RiskStore) -> None:
    await store.raise_peak(A, D("0.1"), first_peak=D("0.1"), now=START)
    exact = D("12345678901234.0000000001")
    assert str((await store.raise_peak(A, exact, first_peak=D(1), now=START)).peak) == str(exact)


async def block_and_unblock_happen_once(store: RiskStore) -> None:
    await store.raise_peak(A, D(10000), first_peak=D(10000), now=START)
    assert await store.block(A, "drawdown 25.00 % past the cap of 20.00 %", START)
    assert not await store.block(A, "again", START)
    state = await store.state(A)
    assert state is not None and state.blocked and state.blocked_at == START and state.reason == "drawdown 25.00 % past the cap of 20.00 %"
    assert await store.unblock(A, START) and not await store.unblock(A, START)
    state = await store.state(A)
    assert state is not None and not state.blocked and state.blocked_at is None


async def nothing_to_block_before_the_first_check(store: RiskStore) -> None:
    assert not await store.block(A, "no state yet", START) and await store.state(A) is None


async def reset_may_lower_the_peak_and_says_whether_it_unblocked(store: RiskStore) -> None:
    await store.raise_peak(A, D(10000), first_peak=D(10000), now=START)
    await store.block(A, "breach", START)
    assert await store.reset(A, D("7500.5"), START)
    state = await store.state(A)
    assert state is not None and (state.peak, state.blocked) == (D("7500.5"), False)
    assert not await store.reset(A, D(7000), START)
    assert not await store.reset("tg-222", D(500), START)  # an account never checked gets its peak set
    assert (await store.state("tg-222")).peak == D(500)  # type: ignore[union-attr]


CONTRACT = [
    first_check_stores_the_first_peak, the_peak_only_rises, text_order_is_not_number_order, money_stays_exact,
    block_and_unblock_happen_once, nothing_to_block_before_the_first_check, reset_may_lower_the_peak_and_says_whether_it_unblocked,
]


@pytest.fixture
async def store_factory(migrated_engine: AsyncEngine) -> AsyncIterator[Callable[[], SqlRiskStore]]:
    """Stores over one database, each with its own runner, as separate workers would have."""
    runners: list[BatchRunner] = []

    def make() -> SqlRiskStore:
        runners.append(batch_runner_for(migrated_engine))
        return SqlRiskStore(runners[-1])

    yield make
    for runner in runners:
        await runner.close()


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__ for c in CONTRACT])
async def test_sql_risk_store(check: Callable[[RiskStore], Awaitable[None]], store_factory: Callable[[], SqlRiskStore]) -> None:
    await check(store_factory())


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__ for c in CONTRACT])
async def test_the_fake_keeps_the_same_contract(check: Callable[[RiskStore], Awaitable[None]]) -> None:
    await check(MemoryRiskStore())


async def test_racing_workers_raise_the_peak_to_the_maximum_and_block_once(store_factory: Callable[[], SqlRiskStore]) -> None:
    workers = [store_factory() for _ in range(4)]
    await workers[0].raise_peak(A, D(100), first_peak=D(100), now=START)
    equities = [D(100) + D(i * 7919 % 1000) / 10 for i in range(80)]  # a shuffled spread up to 199.9

    async def raise_all(store: SqlRiskStore, share: list[Decimal]) -> None:
        for equity in share:
            await store.raise_peak(A, equity, first_peak=D(1), now=START)

    await asyncio.gather(*(raise_all(w, equities[i::4]) for i, w in enumerate(workers)))
    assert (await workers[0].state(A)).peak == max(equities)  # type: ignore[union-attr]

    won = await asyncio.gather(*(w.block(A, "breach", START) for w in workers))
    assert sorted(won) == [False, False, False, True]
