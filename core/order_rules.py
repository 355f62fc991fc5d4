"""Order constraints from the product plan, checked at ingest (so a producer learns at once that a signal
can never be traded) and again when orders are built."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import FieldProblem
from core.instruments import InstrumentSpec
from core.signals import Side


@dataclass(frozen=True)
class OrderRules:
    min_stop_distance_points: int = 5
    min_reward_risk: Decimal = Decimal("1.5")
    expiry_hours: int = 100


def reward_risk(side: Side, entry: Decimal, stop: Decimal, target: Decimal) -> Decimal:
    risk = entry - stop if side is Side.BUY else stop - entry
    reward = target - entry if side is Side.BUY else entry - target
    return reward / risk


def check_order_constraints(
    rules: OrderRules, spec: InstrumentSpec, side: Side, entry: Decimal, stop: Decimal, target: Decimal
) -> list[FieldProblem]:
    """Problems with a signal's levels under the order rules; empty when it can be traded.
    Assumes the levels already lie on the correct side of entry."""
    problems: list[FieldProblem] = []
    min_distance = rules.min_stop_distance_points * spec.point
    if abs(entry - stop) < min_distance:
        problems.append(
            FieldProblem(
                "stop_loss",
                f"stop is {abs(entry - stop) / spec.point:.1f} points from entry; {spec.name} needs at least "
                f"{rules.min_stop_distance_points} points ({min_distance.normalize():f})",
            )
        )
    ratio = reward_risk(side, entry, stop, target)
    if ratio < rules.min_reward_risk:
        problems.append(
            FieldProblem("take_profit", f"reward:risk is {ratio:.2f}; at least {rules.min_reward_risk} is required")
        )
    return problems
