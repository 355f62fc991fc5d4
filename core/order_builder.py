"""Turning an approved signal into an order for one account: on the instrument's grid, re-checked, sized."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from core.errors import OrderRefused
from core.instruments import InstrumentSpec
from core.order_rules import OrderRules, check_rounded_levels, position_size, round_levels
from core.orders import OrderRequest, order_key
from core.signals import Signal


def build_order_request(
    signal: Signal,
    *,
    account_id: str,
    equity: Decimal,
    spec: InstrumentSpec,
    rules: OrderRules,
    risk_percent: Decimal,
    now: datetime,
    currency_value: Decimal = Decimal(1),
) -> OrderRequest:
    """Raises OrderRefused, listing every rule the rounded levels or the size break. `currency_value`: what
    one unit of the instrument's quote currency is worth in the account's (core.currency)."""
    levels = round_levels(spec, signal.side, signal.price, signal.stop_loss, signal.take_profit)
    # Ingest checked the producer's levels; rounding can cost reward, so the rules are checked again.
    problems = check_rounded_levels(rules, spec, signal.side, levels)
    if problems:
        raise OrderRefused(problems)
    volume = position_size(equity, risk_percent, abs(levels.entry - levels.stop), spec, currency_value)
    return OrderRequest(
        account_id=account_id,
        signal_id=signal.id,
        idempotency_key=order_key(signal.id, account_id),
        instrument=signal.instrument,
        side=signal.side,
        volume=volume,
        entry=levels.entry,
        stop_loss=levels.stop,
        take_profit=levels.target,
        created_at=now,
        expires_at=now + timedelta(hours=rules.expiry_hours),
    )
