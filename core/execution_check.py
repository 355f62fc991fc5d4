"""The last check before an order goes to the broker: does the market still fit it?"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ExecutionRefused
from core.instruments import InstrumentSpec
from core.orders import OrderKind, OrderRequest
from core.quotes import Quote
from core.signals import Side
from core.trades import entry_price, exit_price


@dataclass(frozen=True)
class ExecutionPolicy:
    max_slippage_points: int


def plan_entry(request: OrderRequest, quote: Quote, spec: InstrumentSpec, policy: ExecutionPolicy) -> OrderKind:
    """How to place `request` against `quote`: a pending order at the entry (limit or stop, whichever the
    entry is relative to the market), or a market order when the market is exactly at the entry.

    Refuses (ExecutionRefused) when the market has already gone through the stop, or is more than the
    allowed slippage from the entry: the signal's setup no longer exists and the trader is told why."""
    if quote.instrument != request.instrument:
        raise ValueError(f"quote for {quote.instrument} cannot plan an order on {request.instrument}")
    side = request.side
    # The stop triggers on the price the position would close at (bid for a buy, ask for a sell).
    trigger = exit_price(side, quote)
    past_stop = trigger <= request.stop_loss if side is Side.BUY else trigger >= request.stop_loss
    if past_stop:
        which = "bid" if side is Side.BUY else "ask"
        raise ExecutionRefused(
            "past_stop", f"price already moved past the stop: {which} {trigger} vs stop {request.stop_loss}"
        )
    price = entry_price(side, quote)
    slippage_points = abs(price - request.entry) / spec.point
    if slippage_points > policy.max_slippage_points:
        which = "ask" if side is Side.BUY else "bid"
        raise ExecutionRefused(
            "slippage",
            f"price moved {slippage_points.normalize():f} points from the entry {request.entry} ({which} {price}); "
            f"at most {policy.max_slippage_points} allowed",
        )
    if price == request.entry:
        return OrderKind.MARKET
    entry_is_better = request.entry < price if side is Side.BUY else request.entry > price
    return OrderKind.LIMIT if entry_is_better else OrderKind.STOP
