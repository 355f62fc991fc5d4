"""The order state machine: new -> open -> closed | cancelled, checked in one place."""

from __future__ import annotations

import pytest

from core.errors import InvalidOrderTransition
from core.orders import Order, OrderKind, OrderStatus, order_sources
from core.signals import Side
from tests.execution.exec_support import request
from tests.support import START

S = OrderStatus
ALLOWED = {(S.NEW, S.OPEN), (S.NEW, S.CANCELLED), (S.OPEN, S.CLOSED)}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_transition(current: OrderStatus, target: OrderStatus) -> None:
    order = Order("o-1", request(Side.BUY, "2400.50", "2390.00", "2420.00"), OrderKind.LIMIT, current, START)
    if (current, target) in ALLOWED:
        moved = order.moved_to(target, START, "why")
        assert (moved.status, moved.reason, moved.request) == (target, "why", order.request)
    else:
        with pytest.raises(InvalidOrderTransition, match=f"from {current} to {target}"):
            order.moved_to(target, START)


@pytest.mark.parametrize(
    ("target", "sources"),
    [(S.NEW, set()), (S.OPEN, {S.NEW}), (S.CANCELLED, {S.NEW}), (S.CLOSED, {S.OPEN})],
)
def test_order_sources_invert_the_table(target: OrderStatus, sources: set[OrderStatus]) -> None:
    assert order_sources(target) == sources
