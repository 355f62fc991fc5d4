"""Shared builders for the execution tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.instruments import InstrumentTable
from core.orders import OrderRequest, order_key
from core.quotes import Quote
from core.signals import Side, Signal, SignalStatus
from tests.support import START

D = Decimal
TABLE = InstrumentTable({}, default_point=D("0.01"))


def signal(instrument: str, side: Side, price: str, stop: str, target: str, signal_id: str = "sig-1") -> Signal:
    return Signal(
        id=signal_id,
        producer_id="alpha",
        instrument=instrument,
        side=side,
        price=D(price),
        stop_loss=D(stop),
        take_profit=D(target),
        time=START,
        version=1,
        status=SignalStatus.APPROVED,
        created_at=START,
        updated_at=START,
    )


def request(
    side: Side,
    entry: str,
    stop: str,
    target: str,
    *,
    volume: str = "0.10",
    instrument: str = "XAUUSD",
    account: str = "trader-111",
    signal_id: str = "sig-1",
    expiry_hours: int = 100,
) -> OrderRequest:
    return OrderRequest(
        account_id=account,
        signal_id=signal_id,
        idempotency_key=order_key(signal_id, account),
        instrument=instrument,
        side=side,
        volume=D(volume),
        entry=D(entry),
        stop_loss=D(stop),
        take_profit=D(target),
        created_at=START,
        expires_at=START + timedelta(hours=expiry_hours),
    )


def quote(bid: str, ask: str, seconds: float = 1, instrument: str = "XAUUSD") -> Quote:
    return Quote(instrument, D(bid), D(ask), START + timedelta(seconds=seconds))
