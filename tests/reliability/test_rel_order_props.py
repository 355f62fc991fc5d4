"""Order construction by property, over whole orders: for any signal ingest accepts (stop at least the
minimum distance, reward:risk at least the minimum) on any instrument grid, any equity and risk percent,
the order is either built with every rule still holding after rounding and sizing, or refused for a
reason that really holds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st

from core.errors import OrderRefused
from core.instruments import BUILTIN_INSTRUMENTS, InstrumentSpec
from core.order_builder import build_order_request
from core.order_rules import OrderRules, reward_risk, round_levels
from core.signals import Side
from tests.execution.exec_support import signal
from tests.support import START

D = Decimal
ODD_GRIDS = [
    InstrumentSpec("QUARTERS", D("0.25"), contract_size=D(50), volume_step=D(1), min_volume=D(1)),
    InstrumentSpec("FIVES", D(5), contract_size=D(1), volume_step=D("0.5"), min_volume=D("0.5")),
    InstrumentSpec("TINY", D("0.0001"), contract_size=D(10), volume_step=D("0.001"), min_volume=D("0.002")),
]
specs = st.sampled_from([*BUILTIN_INSTRUMENTS.values(), *ODD_GRIDS])
rules = st.builds(
    OrderRules,
    min_stop_distance_points=st.integers(0, 300),
    min_reward_risk=st.decimals(min_value=D(0), max_value=D(4), places=2),
    expiry_hours=st.integers(1, 500),
)


@st.composite
def accepted_signals(draw: st.DrawFn, spec: InstrumentSpec, rules: OrderRules) -> tuple[Side, D, D, D]:
    """Levels as a producer may send them (off the grid), meeting the rules ingest checks."""
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    sign = 1 if side is Side.BUY else -1
    entry = draw(st.decimals(min_value=D(10_000), max_value=D(10_000_000), places=3)) * spec.point
    risk_points = rules.min_stop_distance_points + draw(st.decimals(min_value=D("0.001"), max_value=D(2000), places=3))
    reward_points = risk_points * (rules.min_reward_risk + draw(st.decimals(min_value=D(0), max_value=D(3), places=3)))
    return side, entry, entry - sign * risk_points * spec.point, entry + sign * reward_points * spec.point


@given(
    spec=specs,
    rules=rules,
    equity=st.decimals(min_value=D("0.01"), max_value=D(10_000_000), places=2),
    risk_percent=st.decimals(min_value=D("0.01"), max_value=D(10), places=2),
    data=st.data(),
)
def test_an_order_keeps_every_rule_or_is_refused_for_a_true_reason(
    spec: InstrumentSpec, rules: OrderRules, equity: D, risk_percent: D, data: st.DataObject
) -> None:
    side, entry, stop, target = data.draw(accepted_signals(spec, rules), label="levels")
    budget = equity * risk_percent / 100
    try:
        order = build_order_request(
            signal(spec.name, side, str(entry), str(stop), str(target)),
            account_id="a", equity=equity, spec=spec, rules=rules, risk_percent=risk_percent, now=START,
        )
    except OrderRefused as refused:
        event(f"refused: {', '.join(p.field for p in refused.problems)}")
        _assert_true_reasons(refused, spec, rules, side, (entry, stop, target), budget)
        return
    event("built")
    distance = abs(order.entry - order.stop_loss)
    assert all(price % spec.point == 0 for price in (order.entry, order.stop_loss, order.take_profit)), "off the grid"
    assert distance >= rules.min_stop_distance_points * spec.point and distance > 0, "stop too close after rounding"
    assert reward_risk(side, order.entry, order.stop_loss, order.take_profit) >= rules.min_reward_risk
    assert order.volume % spec.volume_step == 0 and order.volume >= spec.min_volume
    assert order.volume * distance * spec.contract_size <= budget, "risks more than risk_per_trade"
    assert order.expires_at - order.created_at == timedelta(hours=rules.expiry_hours)


def _assert_true_reasons(
    refused: OrderRefused, spec: InstrumentSpec, rules: OrderRules, side: Side, sent: tuple[D, D, D], budget: D
) -> None:
    levels = round_levels(spec, side, *sent)
    distance = abs(levels.entry - levels.stop)
    for problem in refused.problems:
        if problem.field == "stop_loss":
            assert distance < rules.min_stop_distance_points * spec.point or distance == 0
        elif problem.field == "take_profit":
            assert reward_risk(side, levels.entry, levels.stop, levels.target) < rules.min_reward_risk
        else:
            assert problem.field == "volume"
            # Even the smallest volume the instrument allows would risk more than the budget.
            assert spec.min_volume * distance * spec.contract_size > budget
