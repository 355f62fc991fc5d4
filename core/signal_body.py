"""Parsing and validating a producer's JSON body into a SignalDraft.

Hand-written rather than a schema library: it is on the ingest hot path, and each rule's message is
part of the API (a producer reads it to fix its integration)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from collections.abc import Callable
from typing import Any

from core.errors import FieldProblem, InvalidSignal, MalformedBody
from core.signals import Side, SignalDraft
from core.signing import parse_timestamp

INSTRUMENT_PATTERN = re.compile(r"[A-Z0-9._-]{2,20}")
KNOWN_FIELDS = frozenset(
    {"instrument", "side", "price", "stop_loss", "take_profit", "time", "external_id", "version", "payload"}
)
MAX_PRICE = Decimal("1e10")
MAX_PRICE_DECIMALS = 10
MAX_EXTERNAL_ID = 128
MAX_VERSION = 2**31 - 1
Fail = Callable[[str, str], None]
_SIDES = {"buy": Side.BUY, "sell": Side.SELL, 0: Side.BUY, 1: Side.SELL}


class _NonFinite:
    """Stands in for NaN/Infinity so the field rule, not the JSON parser, reports it."""


NON_FINITE = _NonFinite()


def decode_json_object(raw: bytes) -> dict[str, Any]:
    try:
        # Decimal keeps prices exact; Decimal ints dodge Python's 4300-digit int limit on hostile input.
        value = json.loads(raw, parse_float=Decimal, parse_int=Decimal, parse_constant=lambda _: NON_FINITE)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBody(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody("body is not valid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise MalformedBody(f"body must be a JSON object, got {json_type(value)}")
    return value


def parse_signal_body(raw: bytes, *, now: datetime, max_future_skew: timedelta) -> SignalDraft:
    body = decode_json_object(raw)
    problems: list[FieldProblem] = []

    def fail(field: str, reason: str) -> None:
        problems.append(FieldProblem(field, reason))

    for unknown in sorted(set(body) - KNOWN_FIELDS):
        fail(unknown, "unknown field")

    instrument = body.get("instrument")
    if instrument is None:
        fail("instrument", "is required")
    elif not isinstance(instrument, str) or not INSTRUMENT_PATTERN.fullmatch(instrument):
        fail("instrument", "must match ^[A-Z0-9._-]{2,20}$ (upper-case symbol, e.g. XAUUSD)")

    side = _side(body.get("side"), fail)
    price = _price(body, "price", fail)
    stop = _price(body, "stop_loss", fail)
    target = _price(body, "take_profit", fail)
    moment = _time(body.get("time"), now, max_future_skew, fail)
    version = _version(body.get("version", Decimal(1)), fail)

    external_id = body.get("external_id")
    if external_id is not None and (not isinstance(external_id, str) or not 1 <= len(external_id) <= MAX_EXTERNAL_ID):
        fail("external_id", f"must be a string of 1 to {MAX_EXTERNAL_ID} characters")

    payload = body.get("payload")
    if payload is not None and not isinstance(payload, dict):
        fail("payload", f"must be a JSON object, got {json_type(payload)}")
    elif payload is not None and _contains_non_finite(payload):
        fail("payload", "must not contain NaN or Infinity")

    if side is not None and price is not None and stop is not None and target is not None:
        _check_sides(side, price, stop, target, fail)
    if problems:
        raise InvalidSignal(problems)
    assert side is not None and price is not None and stop is not None and target is not None
    assert moment is not None and version is not None
    return SignalDraft(
        instrument=instrument,
        side=side,
        price=price,
        stop_loss=stop,
        take_profit=target,
        time=moment,
        version=version,
        external_id=external_id,
        payload=_plain_json(payload) if payload is not None else None,
    )


def _side(value: Any, fail: Fail) -> Side | None:
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, Decimal) and key in (0, 1):
        key = int(key)
    if value is None:
        fail("side", "is required")
    elif isinstance(key, bool) or key not in _SIDES:
        fail("side", 'must be "buy" or "sell" (or 0 / 1)')
    else:
        return _SIDES[key]
    return None


def _price(body: dict[str, Any], name: str, fail: Fail) -> Decimal | None:
    value = body.get(name)
    if value is None:
        fail(name, "is required")
    elif value is NON_FINITE:
        fail(name, "must be a finite number, not NaN or Infinity")
    elif not isinstance(value, Decimal):
        fail(name, f"must be a number, got {json_type(value)}")
    elif not Decimal(0) < value < MAX_PRICE:
        fail(name, f"must be greater than 0 and less than {MAX_PRICE:.0E}")
    elif -value.normalize().as_tuple().exponent > MAX_PRICE_DECIMALS:
        fail(name, f"has more than {MAX_PRICE_DECIMALS} decimal places")
    else:
        return value
    return None


def _time(value: Any, now: datetime, skew: timedelta, fail: Fail) -> datetime | None:
    if value is None:
        fail("time", "is required")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = parse_timestamp(value)
    except ValueError:
        fail("time", "must be an RFC 3339 timestamp with offset, e.g. 2026-11-23T10:00:00Z")
        return None
    if moment > now + skew:
        fail("time", f"is {int((moment - now).total_seconds())} s in the future; at most {int(skew.total_seconds())} s allowed")
        return None
    return moment


def _version(value: Any, fail: Fail) -> int | None:
    if not isinstance(value, Decimal) or value != value.to_integral_value() or not 1 <= value <= MAX_VERSION:
        fail("version", "must be a whole number of at least 1")
        return None
    return int(value)


def _check_sides(side: Side, price: Decimal, stop: Decimal, target: Decimal, fail: Fail) -> None:
    if side is Side.BUY:
        if stop >= price:
            fail("stop_loss", "must be below the entry price for a buy")
        if target <= price:
            fail("take_profit", "must be above the entry price for a buy")
    else:
        if stop <= price:
            fail("stop_loss", "must be above the entry price for a sell")
        if target >= price:
            fail("take_profit", "must be below the entry price for a sell")


def _contains_non_finite(value: Any) -> bool:
    if value is NON_FINITE:
        return True
    if isinstance(value, dict):
        return any(_contains_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_non_finite(v) for v in value)
    return False


def _plain_json(value: Any) -> Any:
    """Decimals back to JSON-native numbers so the payload stores as ordinary JSON."""
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    if isinstance(value, Decimal):
        try:
            return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
        except (OverflowError, InvalidOperation):
            return str(value)
    return value


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    return {dict: "object", list: "array", str: "string", type(None): "null"}.get(type(value), "number")
