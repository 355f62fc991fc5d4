"""Parsing a pushed quotes body: {"quotes": [{"instrument", "bid", "ask", "time"}, ...]}.

Only the shape is checked here (a broken shape refuses the whole request, naming each bad field with its
index). Whether a well-formed quote may be traded on (NaN, zero, negative, crossed, future, out of order,
duplicate, absurd jump) is the QuoteGuard's call, per quote, so that such quotes are counted and alerted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.errors import FieldProblem, InvalidQuotes, TooManyQuotes
from core.quotes import Quote
from core.signal_body import INSTRUMENT_PATTERN, MAX_PRICE, MAX_PRICE_DECIMALS, NON_FINITE, decode_json_object, json_type
from core.signing import parse_timestamp

QUOTE_FIELDS = frozenset({"instrument", "bid", "ask", "time"})


def parse_quotes_body(raw: bytes, *, max_quotes: int) -> list[Quote]:
    """Raises MalformedBody (not a JSON object), TooManyQuotes, or InvalidQuotes listing every bad field."""
    body = decode_json_object(raw)
    problems: list[FieldProblem] = [FieldProblem(name, "unknown field") for name in sorted(set(body) - {"quotes"})]
    items = body.get("quotes")
    if not isinstance(items, list) or not items:
        got = "an empty array" if items == [] else "nothing" if items is None else json_type(items)
        problems.append(FieldProblem("quotes", f"must be an array of 1 to {max_quotes} quotes, got {got}"))
        raise InvalidQuotes(problems)
    if len(items) > max_quotes:
        raise TooManyQuotes(len(items), max_quotes)
    quotes = [_quote(f"quotes[{index}]", item, problems) for index, item in enumerate(items)]
    if problems:
        raise InvalidQuotes(problems)
    return quotes  # type: ignore[return-value]  # no problems: every item parsed


def _quote(where: str, item: Any, problems: list[FieldProblem]) -> Quote | None:
    if not isinstance(item, dict):
        problems.append(FieldProblem(where, f"must be an object, got {json_type(item)}"))
        return None
    before = len(problems)
    problems += [FieldProblem(f"{where}.{name}", "unknown field") for name in sorted(set(item) - QUOTE_FIELDS)]
    instrument = item.get("instrument")
    if not isinstance(instrument, str) or not INSTRUMENT_PATTERN.fullmatch(instrument):
        reason = "is required" if instrument is None else "must match ^[A-Z0-9._-]{2,20}$ (upper-case symbol, e.g. XAUUSD)"
        problems.append(FieldProblem(f"{where}.instrument", reason))
    bid = _price(f"{where}.bid", item.get("bid"), problems)
    ask = _price(f"{where}.ask", item.get("ask"), problems)
    time = item.get("time")
    try:
        moment = parse_timestamp(time) if isinstance(time, str) else None
    except ValueError:
        moment = None
    if moment is None:
        reason = "is required" if time is None else "must be an RFC 3339 timestamp with offset, e.g. 2026-11-23T10:00:01Z"
        problems.append(FieldProblem(f"{where}.time", reason))
    if len(problems) > before or bid is None or ask is None or moment is None:
        return None
    return Quote(instrument, bid, ask, moment)  # type: ignore[arg-type]


def _price(field: str, value: Any, problems: list[FieldProblem]) -> Decimal | None:
    if value is NON_FINITE:
        return Decimal("NaN")  # a broken feed, not a broken client: the guard refuses it and ops hear of it
    if value is None:
        problems.append(FieldProblem(field, "is required"))
    elif not isinstance(value, Decimal):
        problems.append(FieldProblem(field, f"must be a number, got {json_type(value)}"))
    elif abs(value) >= MAX_PRICE:
        problems.append(FieldProblem(field, f"must be less than {MAX_PRICE:.0E} in size"))
    elif -value.normalize().as_tuple().exponent > MAX_PRICE_DECIMALS:  # type: ignore[operator]
        problems.append(FieldProblem(field, f"has more than {MAX_PRICE_DECIMALS} decimal places"))
    else:
        return value
    return None
