"""Trading statistics against hand-computed values."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from core.signals import Side
from core.stats import TradingStats, max_drawdown, trading_stats
from core.trades import CloseReason, EquityPoint, Position
from tests.support import START

D = Decimal
OPEN = Position(
    id="p", account_id="tg-111", order_id="p", instrument="XAUUSD", side=Side.BUY, volume=D("0.10"),
    open_price=D(2400), stop_loss=D(2390), take_profit=D(2420), opened_at=START,
)


def closed(pnl: str) -> Position:
    return dataclasses.replace(OPEN, closed_at=START, close_price=D(2400), close_reason=CloseReason.MANUAL, pnl=D(pnl))


def curve(*equities: str) -> list[EquityPoint]:
    return [EquityPoint("tg-111", START + timedelta(minutes=i), D(e), D(e)) for i, e in enumerate(equities)]


# (case, PnLs, trades, wins, losses, win rate, profit factor, expectancy, net)
CASES = [
    ("no trades", [], 0, 0, 0, None, None, None, D(0)),
    ("one winning trade", ["100"], 1, 1, 0, D(1), None, D(100), D(100)),
    ("one losing trade", ["-40.50"], 1, 0, 1, D(0), D(0), D("-40.50"), D("-40.50")),
    ("all wins: no profit factor", ["100", "50"], 2, 2, 0, D(1), None, D(75), D(150)),
    # gross profit 200 + 100 = 300, gross loss 50 + 100 = 150: factor 2; net 150 over 5 trades = 30
    ("mixed with a break-even", ["200", "-50", "0", "100", "-100"], 5, 2, 2, D("0.4"), D(2), D(30), D(150)),
    ("thirds", ["10", "-20", "-10"], 3, 1, 2, D(1) / D(3), D(10) / D(30), D(-20) / D(3), D(-20)),
]


@pytest.mark.parametrize(("case", "pnls", "trades", "wins", "losses", "win_rate", "factor", "expectancy", "net"), CASES, ids=[c[0] for c in CASES])
def test_trade_figures(
    case: str, pnls: list[str], trades: int, wins: int, losses: int,
    win_rate: Decimal | None, factor: Decimal | None, expectancy: Decimal | None, net: Decimal,
) -> None:
    stats = trading_stats([closed(p) for p in pnls], [])
    assert (stats.trades, stats.wins, stats.losses) == (trades, wins, losses)
    assert stats.win_rate == win_rate
    assert stats.profit_factor == factor
    assert stats.expectancy == expectancy
    assert stats.net_pnl == net
    assert all(isinstance(v, Decimal) for v in (stats.net_pnl, stats.gross_profit, stats.gross_loss))


def test_an_open_position_is_not_a_trade() -> None:
    assert trading_stats([OPEN, closed("5")], []).trades == 1


# (case, equity curve, max drawdown)
DRAWDOWNS = [
    ("no points", [], D(0)),
    ("one point", ["10000"], D(0)),
    ("only rising", ["10000", "10100", "10200"], D(0)),
    ("one dip", ["10000", "9000", "9500"], D("0.1")),
    # peak 12000 then 9000: 25 %, deeper than the earlier 10000 -> 9500 (5 %)
    ("deepest from a later peak", ["10000", "9500", "12000", "9000", "12500"], D("0.25")),
    ("a later shallower dip does not replace it", ["10000", "8000", "11000", "10450"], D("0.2")),
    ("non-positive peak skipped", ["0", "-5", "10", "5"], D("0.5")),
]


@pytest.mark.parametrize(("case", "equities", "expected"), DRAWDOWNS, ids=[c[0] for c in DRAWDOWNS])
def test_max_drawdown(case: str, equities: list[str], expected: Decimal) -> None:
    assert max_drawdown(curve(*equities)) == expected


def test_stats_carry_the_curves_drawdown() -> None:
    stats = trading_stats([closed("-1000")], curve("10000", "9000"))
    assert stats == TradingStats(1, 0, 1, D(0), D(1000), D(-1000), D("0.1"))
