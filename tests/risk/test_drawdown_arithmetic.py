"""The drawdown arithmetic, by table and by property: the fraction, the cap, and a peak that only rises."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.accounts import AccountMap
from core.drawdown import DrawdownGuard, DrawdownMeter, DrawdownPolicy, drawdown, percent
from tests.risk.risk_fakes import FakeBroker, MemoryRiskStore, Told
from tests.support import FakeClock

D = Decimal

# peak, equity -> drawdown
TABLE = [
    ("10000", "8000", "0.2"),
    ("10000", "7999.99", "0.200001"),
    ("10000", "10000", "0"),
    ("10000", "12000", "0"),  # above the peak: no drawdown (the guard raises the peak)
    ("10000", "0", "1"),
    ("10000", "-500", "1.05"),  # negative equity (a margin call) is more than everything lost
    ("0.1", "0.05", "0.5"),
    ("0", "0", "0"),  # nothing to fall from
    ("0", "-1", "1"),
]


@pytest.mark.parametrize(("peak", "equity", "expected"), TABLE)
def test_drawdown_table(peak: str, equity: str, expected: str) -> None:
    assert drawdown(D(peak), D(equity)) == D(expected)


@pytest.mark.parametrize(("fraction", "text"), [("0.2", "20.00 %"), ("0.200001", "20.00 %"), ("0.12346", "12.35 %"), ("1.05", "105.00 %")])
def test_percent_rendering(fraction: str, text: str) -> None:
    assert percent(D(fraction)) == text


money = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
caps = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)


@given(peak=money, equity=st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2), cap=caps)
def test_past_the_cap_exactly_when_equity_is_below_the_cap_line(peak: Decimal, equity: Decimal, cap: Decimal) -> None:
    # The line is exact: peak × (1 − cap) has at most four places, and so does every quotient compared to it.
    assert (drawdown(peak, equity) > cap) == (equity < peak * (1 - cap))


@given(peak=money, lower=money, higher=money)
def test_less_equity_never_means_less_drawdown(peak: Decimal, lower: Decimal, higher: Decimal) -> None:
    lower, higher = sorted((lower, higher))
    assert drawdown(peak, lower) >= drawdown(peak, higher) >= 0


@given(equities=st.lists(money, min_size=1, max_size=30), cap=caps)
def test_the_guard_keeps_the_running_peak_and_blocks_at_the_first_breach(equities: list[Decimal], cap: Decimal) -> None:
    """A whole history of equities: the stored peak is the highest seen (never lowered), and without
    resume_on_recovery the account is blocked from the first equity past the cap of the peak so far."""
    account = "tg-111"
    broker, store, told = FakeBroker(), MemoryRiskStore(), Told()
    policy = DrawdownPolicy(cap=cap, resume_on_recovery=False, starting_equity=None)
    guard = DrawdownGuard(DrawdownMeter(store, broker, AccountMap(frozenset({111})), policy), FakeClock(), told, told)

    async def replay() -> None:
        peak, breached = equities[0], False
        for equity in equities:
            broker.equity[account] = equity
            risk = await guard.check(account)
            peak = max(peak, equity)
            breached = breached or equity < peak * (1 - cap)
            assert (risk.peak, store.states[account].peak, risk.blocked) == (peak, peak, breached)
        assert len(told.alerts) == int(breached)

    asyncio.run(replay())
