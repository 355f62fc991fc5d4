"""Order constraints from the product plan, checked at ingest (so a producer learns at once that a signal
can never be traded) and again when orders are built."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from core.errors import FieldProblem, OrderRefused
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


@dataclass(frozen=True)
class Levels:
    entry: Decimal
    stop: Decimal
    target: Decimal


def to_grid(price: Decimal, step: Decimal, rounding: str) -> Decimal:
    """`price` as a whole number of `step`s, rounded the given way (works for any step, e.g. 0.25)."""
    return (price / step).to_integral_value(rounding=rounding) * step


def round_levels(spec: InstrumentSpec, side: Side, entry: Decimal, stop: Decimal, target: Decimal) -> Levels:
    """The levels on the instrument's point grid, each rounded in the direction that never loosens a rule."""
    away_from_entry_for_stop = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return Levels(
        # Entry to the nearest point: the producer's level is the best estimate of where to get in, and
        # the stop and target below are rounded relative to it and re-checked anyway.
        entry=to_grid(entry, spec.point, ROUND_HALF_EVEN),
        # Stop away from entry: the distance only grows, so a stop that met the minimum distance still
        # does (both ends are on the grid); sizing then uses that larger distance, so the money at risk
        # stays within the budget.
        stop=to_grid(stop, spec.point, away_from_entry_for_stop),
        # Target towards entry (the same direction as the stop, for either side): a target is only worth
        # something if price reaches it, so never place it further than the producer asked. The reward
        # this costs is caught by the reward:risk re-check.
        target=to_grid(target, spec.point, away_from_entry_for_stop),
    )


def check_rounded_levels(rules: OrderRules, spec: InstrumentSpec, side: Side, levels: Levels) -> list[FieldProblem]:
    """check_order_constraints for levels already on the grid, where the stop may have rounded onto entry
    (possible only with min_stop_distance_points = 0) and the target onto or past it."""
    if levels.stop == levels.entry:
        return [FieldProblem("stop_loss", f"stop rounds onto the entry at {spec.name}'s point {spec.point}")]
    return check_order_constraints(rules, spec, side, levels.entry, levels.stop, levels.target)


def position_size(
    equity: Decimal, risk_percent: Decimal, stop_distance: Decimal, spec: InstrumentSpec, currency_value: Decimal = Decimal(1)
) -> Decimal:
    """Volume that loses `risk_percent` of `equity` if the stop is hit: money at risk / (distance x contract
    size x `currency_value`, the account-currency value of one unit of the quote currency), rounded DOWN to
    the volume step so the loss never exceeds the budget. Refused below min volume."""
    if equity <= 0:
        raise OrderRefused([FieldProblem("volume", f"account equity is {equity}; nothing can be risked")])
    money_at_risk = equity * risk_percent / 100
    volume = to_grid(money_at_risk / (stop_distance * spec.contract_size * currency_value), spec.volume_step, ROUND_FLOOR)
    if volume < spec.min_volume:
        raise OrderRefused(
            [
                FieldProblem(
                    "volume",
                    f"risking {risk_percent}% of {equity:.2f} ({money_at_risk:.2f}) over a stop of "
                    f"{(stop_distance / spec.point).normalize():f} points allows {volume.normalize():f} lots; "
                    f"{spec.name} needs at least {spec.min_volume.normalize():f}",
                )
            ]
        )
    return volume
