"""Execution-time re-check of an order against the current quote."""

from __future__ import annotations

import pytest

from core.errors import ExecutionRefused
from core.execution_check import ExecutionPolicy, plan_entry
from core.orders import OrderKind
from core.signals import Side
from tests.execution.exec_support import TABLE, quote, request

BUY_ORDER = request(Side.BUY, "2400.50", "2390.00", "2420.00")
SELL_ORDER = request(Side.SELL, "2400.50", "2410.00", "2380.00")
POLICY = ExecutionPolicy(max_slippage_points=20)  # 0.20 on gold

# order, bid, ask -> kind, or the reason it is refused
CASES = [
    (BUY_ORDER, "2400.20", "2400.50", OrderKind.MARKET),  # ask exactly at entry
    (BUY_ORDER, "2400.30", "2400.60", OrderKind.LIMIT),  # entry below the ask: wait for the dip
    (BUY_ORDER, "2400.10", "2400.40", OrderKind.STOP),  # entry above the ask: wait for the rise
    (BUY_ORDER, "2400.40", "2400.70", OrderKind.LIMIT),  # exactly the allowed slippage
    (BUY_ORDER, "2400.41", "2400.71", "slippage"),  # 21 points above
    (BUY_ORDER, "2400.00", "2400.29", "slippage"),  # 21 points below
    (BUY_ORDER, "2390.01", "2390.31", "slippage"),  # above the stop, but far from entry
    (BUY_ORDER, "2390.00", "2390.30", "past_stop"),  # the bid touches the stop
    (BUY_ORDER, "2300.00", "2300.30", "past_stop"),
    (SELL_ORDER, "2400.50", "2400.80", OrderKind.MARKET),
    (SELL_ORDER, "2400.60", "2400.90", OrderKind.STOP),  # entry below the bid: wait for the fall
    (SELL_ORDER, "2400.40", "2400.70", OrderKind.LIMIT),  # entry above the bid: wait for the rise
    (SELL_ORDER, "2400.30", "2400.60", OrderKind.LIMIT),  # 20 points: allowed
    (SELL_ORDER, "2400.29", "2400.59", "slippage"),
    (SELL_ORDER, "2409.70", "2410.00", "past_stop"),  # the ask touches the stop
]


@pytest.mark.parametrize(("order", "bid", "ask", "expected"), CASES)
def test_plan_entry(order: object, bid: str, ask: str, expected: OrderKind | str) -> None:
    current = quote(bid, ask)
    if isinstance(expected, OrderKind):
        assert plan_entry(order, current, TABLE.spec("XAUUSD"), POLICY) is expected  # type: ignore[arg-type]
        return
    with pytest.raises(ExecutionRefused) as refused:
        plan_entry(order, current, TABLE.spec("XAUUSD"), POLICY)  # type: ignore[arg-type]
    assert refused.value.reason == expected


def test_refusals_say_why_in_numbers() -> None:
    with pytest.raises(ExecutionRefused, match=r"moved 21 points from the entry 2400.50 \(ask 2400.71\); at most 20"):
        plan_entry(BUY_ORDER, quote("2400.41", "2400.71"), TABLE.spec("XAUUSD"), POLICY)
    with pytest.raises(ExecutionRefused, match=r"past the stop: ask 2410.00 vs stop 2410.00"):
        plan_entry(SELL_ORDER, quote("2409.70", "2410.00"), TABLE.spec("XAUUSD"), POLICY)


def test_a_quote_of_another_instrument_cannot_plan() -> None:
    with pytest.raises(ValueError, match="EURUSD"):
        plan_entry(BUY_ORDER, quote("1.1", "1.1", instrument="EURUSD"), TABLE.spec("XAUUSD"), POLICY)
