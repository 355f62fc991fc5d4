"""Order construction rules: rounding direction, re-checks after rounding, sizing, expiry, keys."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import OrderRefused
from core.instruments import InstrumentSpec
from core.order_builder import build_order_request
from core.order_rules import OrderRules, position_size, round_levels
from core.orders import order_key
from core.signals import Side
from tests.execution.exec_support import TABLE, D, signal
from tests.support import START

BUY, SELL = Side.BUY, Side.SELL
RULES = OrderRules(min_stop_distance_points=5, min_reward_risk=D("1.5"), expiry_hours=100)


# instrument, side, (entry, stop, target) as sent -> as rounded.
# Entry: nearest point (ties to even). Stop: away from entry. Target: towards entry.
ROUNDING = [
    ("EURUSD", BUY, ("1.100004", "1.099955", "1.100806"), ("1.10000", "1.09995", "1.10080")),
    ("EURUSD", BUY, ("1.100006", "1.099951", "1.100809"), ("1.10001", "1.09995", "1.10080")),
    ("EURUSD", SELL, ("1.100006", "1.100551", "1.099204"), ("1.10001", "1.10056", "1.09921")),
    ("USDJPY", BUY, ("150.1234", "149.8765", "150.7777"), ("150.123", "149.876", "150.777")),
    ("USDJPY", SELL, ("150.1236", "150.4001", "149.5009"), ("150.124", "150.401", "149.501")),
    ("XAUUSD", SELL, ("2400.505", "2410.001", "2380.009"), ("2400.50", "2410.01", "2380.01")),
    ("XAUUSD", BUY, ("2400.515", "2389.999", "2420.019"), ("2400.52", "2389.99", "2420.01")),
    ("US30", BUY, ("39000.05", "38950.09", "39100.19"), ("39000.0", "38950.0", "39100.1")),
    ("US30", SELL, ("39000.15", "39050.01", "38900.99"), ("39000.2", "39050.1", "38901.0")),
    ("XAUUSD", BUY, ("2400.50", "2390.00", "2420.00"), ("2400.50", "2390.00", "2420.00")),  # on the grid already
]


@pytest.mark.parametrize(("instrument", "side", "sent", "rounded"), ROUNDING)
def test_levels_round_in_their_deliberate_direction(
    instrument: str, side: Side, sent: tuple[str, str, str], rounded: tuple[str, str, str]
) -> None:
    levels = round_levels(TABLE.spec(instrument), side, *map(D, sent))
    assert (levels.entry, levels.stop, levels.target) == tuple(map(D, rounded))


# instrument, equity, risk %, entry, stop -> volume (rounded down to the step) or None (refused: below min).
SIZING = [
    ("EURUSD", "10000", "1", "1.10000", "1.09500", "0.20"),  # 100 / (0.005 * 100000) = 0.2
    ("EURUSD", "10000", "1", "1.10000", "1.09700", "0.33"),  # 100 / 300 = 0.333.. -> down to 0.33
    ("EURUSD", "10000", "1", "1.10000", "1.10300", "0.33"),  # a sell: the distance is what counts
    ("EURUSD", "500", "1", "1.10000", "1.09000", None),  # 5 / 1000 = 0.005 < 0.01
    ("USDJPY", "1000000", "1", "150.000", "149.500", "0.20"),  # 10000 / (0.5 * 100000)
    ("USDJPY", "10000", "1", "150.000", "149.500", None),  # 100 / 50000 = 0.002
    ("XAUUSD", "10000", "1", "2400.50", "2390.00", "0.09"),  # 100 / (10.5 * 100) = 0.0952..
    ("XAUUSD", "25000", "2", "2400.00", "2410.00", "0.50"),  # 500 / 1000
    ("US30", "10000", "2", "39000.0", "38950.0", "4.0"),  # 200 / (50 * 1), step 0.1
    ("US30", "10000", "2", "39000.0", "38954.5", "4.3"),  # 200 / 45.5 = 4.39.. -> 4.3
    ("US30", "1000", "0.5", "39000.0", "38900.0", None),  # 5 / 100 = 0.05 < 0.1
    ("BTCUSD", "10000", "1", "60000.00", "58765.44", "0.08"),  # 100 / 1234.56 = 0.081
]


@pytest.mark.parametrize(("instrument", "equity", "risk", "entry", "stop", "expected"), SIZING)
def test_position_size_risks_at_most_the_budget(
    instrument: str, equity: str, risk: str, entry: str, stop: str, expected: str | None
) -> None:
    spec = TABLE.spec(instrument)
    distance = abs(D(entry) - D(stop))
    if expected is None:
        with pytest.raises(OrderRefused) as refused:
            position_size(D(equity), D(risk), distance, spec)
        assert refused.value.problems[0].field == "volume"
        assert f"needs at least {spec.min_volume.normalize():f}" in str(refused.value)
        return
    volume = position_size(D(equity), D(risk), distance, spec)
    assert volume == D(expected)
    assert volume * distance * spec.contract_size <= D(equity) * D(risk) / 100


def test_no_equity_no_order() -> None:
    with pytest.raises(OrderRefused, match="equity is 0"):
        position_size(D(0), D(1), D("0.005"), TABLE.spec("EURUSD"))


# Whole orders: side, instrument, levels -> rounded levels and volume, or the field that refuses it.
BUILD = [
    (BUY, "XAUUSD", ("2400.505", "2390.001", "2420.009"), ("2400.50", "2390.00", "2420.00", "0.09")),
    (SELL, "XAUUSD", ("2400.00", "2410.00", "2384.999"), ("2400.00", "2410.00", "2385.00", "0.10")),
    (BUY, "EURUSD", ("1.10000", "1.09500", "1.10750"), ("1.10000", "1.09500", "1.10750", "0.20")),
    (SELL, "USDJPY", ("150.000", "150.500", "149.000"), None),  # 0.002 lots: too small on 10k
    # 1.5 exactly as sent (14.25 / 9.5), 1.4 once the stop rounds away and the target towards entry.
    (BUY, "EURUSD", ("1.10000", "1.099905", "1.1001425"), "take_profit"),
    (SELL, "EURUSD", ("1.10000", "1.100095", "1.0998575"), "take_profit"),
]


@pytest.mark.parametrize(("side", "instrument", "sent", "expected"), BUILD)
def test_build_order_request(
    side: Side, instrument: str, sent: tuple[str, str, str], expected: tuple[str, ...] | str | None
) -> None:
    def build() -> object:
        return build_order_request(
            signal(instrument, side, *sent),
            account_id="trader-111",
            equity=D(10000),
            spec=TABLE.spec(instrument),
            rules=RULES,
            risk_percent=D(1),
            now=START,
        )

    if not isinstance(expected, tuple):
        with pytest.raises(OrderRefused) as refused:
            build()
        assert [p.field for p in refused.value.problems] == [expected or "volume"]
        return
    order = build()
    assert (order.entry, order.stop_loss, order.take_profit, order.volume) == tuple(map(D, expected))
    assert (order.side, order.instrument, order.signal_id, order.account_id) == (side, instrument, "sig-1", "trader-111")
    assert order.created_at == START
    assert order.expires_at == START + timedelta(hours=100)
    assert order.idempotency_key == order_key("sig-1", "trader-111")


def test_rounding_that_breaks_both_rules_lists_both() -> None:
    rules = OrderRules(min_stop_distance_points=50, min_reward_risk=D(3), expiry_hours=1)
    with pytest.raises(OrderRefused) as refused:
        build_order_request(
            signal("EURUSD", BUY, "1.10000", "1.09990", "1.10020"),
            account_id="a", equity=D(10000), spec=TABLE.spec("EURUSD"), rules=rules, risk_percent=D(1), now=START,
        )
    assert [p.field for p in refused.value.problems] == ["stop_loss", "take_profit"]


def test_a_stop_that_rounds_onto_entry_is_refused() -> None:
    rules = OrderRules(min_stop_distance_points=0, min_reward_risk=D(0), expiry_hours=1)
    with pytest.raises(OrderRefused, match="rounds onto the entry"):
        build_order_request(
            signal("EURUSD", BUY, "1.100004", "1.100001", "1.20000"),
            account_id="a", equity=D(10000), spec=TABLE.spec("EURUSD"), rules=rules, risk_percent=D(1), now=START,
        )


def test_order_keys_are_per_decision_and_fit_an_mt5_comment() -> None:
    assert order_key("sig-1", "a") == order_key("sig-1", "a")
    assert len({order_key("sig-1", "a"), order_key("sig-1", "b"), order_key("sig-2", "a")}) == 3
    assert len(order_key("0190f0f0-0000-7000-8000-000000000000", "telegram:123456789012")) <= 31


POINTS = [D("0.00001"), D("0.001"), D("0.01"), D("0.1"), D("0.25"), D(5)]


@given(
    side=st.sampled_from([BUY, SELL]),
    point=st.sampled_from(POINTS),
    min_points=st.integers(min_value=0, max_value=500),
    entry_ticks=st.integers(min_value=10_000, max_value=10_000_000),
    entry_fraction=st.decimals(min_value=0, max_value=1, places=3),
    extra=st.decimals(min_value=0, max_value=1000, places=3),
    target_points=st.decimals(min_value="0.001", max_value=5000, places=3),
)
def test_rounded_levels_never_loosen_a_rule(
    side: Side,
    point: Decimal,
    min_points: int,
    entry_ticks: int,
    entry_fraction: Decimal,
    extra: Decimal,
    target_points: Decimal,
) -> None:
    spec = InstrumentSpec("X", point)
    sign = 1 if side is BUY else -1
    entry = (entry_ticks + entry_fraction) * point
    stop = entry - sign * (min_points + extra) * point  # at least the minimum distance, as ingest demands
    target = entry + sign * target_points * point
    levels = round_levels(spec, side, entry, stop, target)
    for price in (levels.entry, levels.stop, levels.target):
        assert price % point == 0
    assert abs(levels.entry - entry) <= point / 2
    assert sign * (levels.entry - levels.stop) >= max(min_points, 0) * point  # on the right side, far enough
    assert sign * (levels.stop - stop) <= 0  # the stop only moved away from entry
    assert sign * (levels.target - target) <= 0  # the target only moved towards entry
