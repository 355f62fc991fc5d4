"""The hand-written JSON of a signal says exactly what signal_json says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.http.signals import signal_body, signal_json
from core.signals import Side, Signal, SignalStatus


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"external_id": None, "payload": None},
        {"external_id": 'quote " back\\slash ü \u2028 \x01', "payload": {"nested": [1, 2.5, None, "ü"], "ok": True}},
        {"price": Decimal("0.00001"), "stop_loss": Decimal("1E+3"), "take_profit": Decimal("123456789.0123456789")},
        {"producer_id": "prod/ü\"x", "instrument": "BTC.USD-1", "side": Side.SELL, "status": SignalStatus.APPROVED},
    ],
)
def test_signal_body_is_signal_json(changes: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "id": "01a2f3c4-0000-7000-8000-000000000001", "producer_id": "alpha", "instrument": "XAUUSD", "side": Side.BUY,
        "price": Decimal("2400.5"), "stop_loss": Decimal("2390"), "take_profit": Decimal("2420"),
        "time": datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "version": 3, "status": SignalStatus.NEW,
        "created_at": datetime(2026, 11, 23, 10, 0, 1, 250000, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 23, 10, 0, 1, 250000, tzinfo=UTC),
        "external_id": "tv-1", "payload": {"rsi": 71.2},
    }
    fields.update(changes)
    signal = Signal(**fields)
    assert json.loads(signal_body(signal)) == signal_json(signal)
