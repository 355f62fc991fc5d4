"""Drawdown arithmetic by property, beside tests/risk/test_drawdown_arithmetic.py (the cap line, monotony,
the running peak without recovery): the fraction stays in [0, 1) while equity is positive, and the stored
peak never falls through any history of equities, with recovery allowed or not."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.accounts import AccountMap
from core.drawdown import DrawdownGuard, DrawdownMeter, DrawdownPolicy, drawdown
from tests.risk.risk_fakes import FakeBroker, MemoryRiskStore, Told
from tests.support import FakeClock

D = Decimal
positive = st.decimals(min_value=D("0.01"), max_value=D(10_000_000), places=2)
any_equity = st.decimals(min_value=D(-1_000_000), max_value=D(10_000_000), places=2)


@given(peak=positive, equity=positive)
def test_with_positive_equity_the_drawdown_is_a_fraction_below_one(peak: D, equity: D) -> None:
    fraction = drawdown(peak, equity)
    assert 0 <= fraction < 1
    assert (fraction == 0) == (equity >= peak)


@given(
    equities=st.lists(any_equity, min_size=1, max_size=25),
    cap=st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2),
    resume=st.booleans(),
    start=st.none() | positive,
)
def test_the_peak_never_falls(equities: list[D], cap: D, resume: bool, start: D | None) -> None:
    account = "tg-111"
    broker, store, told = FakeBroker(), MemoryRiskStore(), Told()
    policy = DrawdownPolicy(cap=cap, resume_on_recovery=resume, starting_equity=start)
    guard = DrawdownGuard(DrawdownMeter(store, broker, AccountMap(frozenset({111})), policy), FakeClock(), told, told)

    async def replay() -> None:
        peaks = []
        for equity in equities:
            broker.equity[account] = equity
            risk = await guard.check(account)
            assert risk.peak is not None and risk.drawdown is not None
            assert risk.peak >= equity and risk.peak >= (start if start is not None else equities[0])
            assert risk.drawdown == drawdown(risk.peak, equity)
            peaks.append(risk.peak)
        assert peaks == sorted(peaks), "the peak fell"
        assert peaks[-1] == max([*equities, *([start] if start is not None else [])])

    asyncio.run(replay())
