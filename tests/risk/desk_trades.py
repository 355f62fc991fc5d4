"""Trading on a running desk for tests: quotes through its QuoteIntake, buy orders at its broker."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.orders import OrderKind, OrderRequest, order_key
from core.quotes import Quote
from core.signals import Side
from tests.conftest import Api

D = Decimal


async def quote(api: Api, instrument: str, bid: str, ask: str) -> None:
    api.clock.advance(1)
    [verdict] = await api.desk.quotes.submit([Quote(instrument, D(bid), D(ask), api.clock.now())])
    assert verdict.accepted, verdict


async def buy(api: Api, account: str, instrument: str, volume: str, signal_id: str, *, limit_at: str | None = None) -> None:
    """A market buy, or a buy limit at `limit_at`, with its stop and target far away, so only the drawdown
    guard closes it."""
    now = api.clock.now()
    request = OrderRequest(
        account_id=account, signal_id=signal_id, idempotency_key=order_key(signal_id, account), instrument=instrument,
        side=Side.BUY, volume=D(volume), entry=D(limit_at or 0), stop_loss=D("0.00001"), take_profit=D(1000000),
        created_at=now, expires_at=now + timedelta(hours=100),
    )
    await api.desk.trading.broker.place(request, OrderKind.MARKET if limit_at is None else OrderKind.LIMIT)
