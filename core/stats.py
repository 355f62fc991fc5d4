"""Trading statistics of one account, from its closed positions and its equity points. Exact Decimal
arithmetic throughout; a figure that has no meaning for the trades at hand is None, never 0 or infinity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.trades import EquityPoint, Position

ZERO = Decimal(0)


@dataclass(frozen=True)
class TradingStats:
    trades: int
    wins: int  # PnL above zero
    losses: int  # PnL below zero; a break-even trade is neither a win nor a loss
    gross_profit: Decimal  # sum of the winning trades' PnL
    gross_loss: Decimal  # sum of the losing trades' PnL, as a positive amount
    net_pnl: Decimal
    max_drawdown: Decimal  # a fraction (0.25 is 25 %), from the equity points' running peak

    @property
    def win_rate(self) -> Decimal | None:
        """A fraction; None without trades."""
        return Decimal(self.wins) / self.trades if self.trades else None

    @property
    def profit_factor(self) -> Decimal | None:
        """Gross profit / gross loss; None without a loss to divide by (no trades, or no losing trade)."""
        return self.gross_profit / self.gross_loss if self.gross_loss else None

    @property
    def expectancy(self) -> Decimal | None:
        """The mean PnL per trade; None without trades."""
        return self.net_pnl / self.trades if self.trades else None


def trading_stats(closed: Sequence[Position], equity: Sequence[EquityPoint]) -> TradingStats:
    """Statistics of `closed` positions (a position still open, having no PnL, is not a trade yet)."""
    results = [p.pnl for p in closed if p.pnl is not None]
    profits = [r for r in results if r > 0]
    losses = [-r for r in results if r < 0]
    return TradingStats(
        trades=len(results),
        wins=len(profits),
        losses=len(losses),
        gross_profit=sum(profits, ZERO),
        gross_loss=sum(losses, ZERO),
        net_pnl=sum(results, ZERO),
        max_drawdown=max_drawdown(equity),
    )


def max_drawdown(points: Sequence[EquityPoint]) -> Decimal:
    """The deepest fall of equity below its running peak, as a fraction of that peak; 0 without points.
    A peak of zero or less has nothing to fall from and is skipped."""
    deepest = ZERO
    peak: Decimal | None = None
    for point in points:
        if peak is None or point.equity > peak:
            peak = point.equity
        elif peak > 0:
            deepest = max(deepest, (peak - point.equity) / peak)
    return deepest
