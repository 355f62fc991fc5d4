"""TradingView alerts as producers.

TradingView webhooks cannot add headers or sign requests, so an alert proves itself with a per-producer
token carried in its body (stored only as a SHA-256 digest), an address allowlist, and `{{timenow}}`
freshness. A checked alert becomes the same JSON body the signed API accepts, so one ingest service
applies the same field rules, order rules and dedup to both.

Everything here is pure: no I/O, the clock's reading is passed in."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.errors import AuthenticationFailed, AuthReason, FieldProblem, InvalidSignal, MalformedBody
from core.instruments import InstrumentTable
from core.signal_body import INSTRUMENT_PATTERN, MAX_PRICE_DECIMALS, Fail, decode_json_object
from core.signals import Side
from core.signing import format_timestamp, parse_timestamp

# TradingView's published webhook source addresses.
TRADINGVIEW_WEBHOOK_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")

MIN_TOKEN_BITS = 128
# URL-safe base64 (what new_token makes) or hex; 22 base64 characters carry 132 bits, 32 hex 128.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,256}")
DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")

REQUIRED_FIELDS = ("token", "ticker", "action", "price", "time", "timenow")
OPTIONAL_FIELDS = ("stop", "stop_points", "target", "target_points", "position", "interval", "comment")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
MAX_TEXT_FIELD = 256
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_.]{0,19}")  # shorter than any token: never echo one
_NUMBER = re.compile(r"[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
_ACTIONS = {"buy": Side.BUY, "long": Side.BUY, "sell": Side.SELL, "short": Side.SELL}
# {{strategy.market_position}} after the order: an entry leaves the position on the order's side.
_POSITION_AFTER_ENTRY = {Side.BUY: "long", Side.SELL: "short"}


class AlertAuthReason:
    """AuthenticationFailed reasons of the TradingView endpoint (besides AuthReason's)."""

    MISSING_TOKEN = "missing_token"
    BAD_TOKEN = "bad_token"
    NO_TOKEN_CONFIGURED = "no_token_configured"
    MISSING_TIMENOW = "missing_timenow"


# --- tokens -------------------------------------------------------------------------------------------


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What configuration stores. A plain SHA-256 is enough: the token has at least 128 random bits,
    so there is nothing to guess that a slow, salted hash would protect."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(digests: Iterable[str], token: str) -> bool:
    """True when `token` hashes to one of `digests` (several while rotating); constant-time per digest."""
    given = token_digest(token).encode("ascii")
    matched = False
    for digest in digests:
        # Compare against every digest so timing does not reveal which one matched.
        matched |= hmac.compare_digest(digest.encode("ascii"), given)
    return matched


# --- reading the body -----------------------------------------------------------------------------------


def read_alert(raw: bytes, *, json_expected: bool) -> dict[str, Any]:
    """The alert's fields, from JSON (object) or from text lines `key=value`.

    TradingView sends `application/json` when the message is valid JSON and `text/plain` otherwise, so
    text that starts with `{` is JSON that failed to parse and is reported as such."""
    if json_expected or raw.lstrip().startswith(b"{"):
        return decode_json_object(raw)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise MalformedBody("body is neither JSON nor UTF-8 text") from None
    fields: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            # Never echo the line: it may be a pasted token.
            raise MalformedBody(f"line {number} is not key=value (a text alert has one key=value per line)")
        if key in fields:
            raise MalformedBody(f"line {number}: {_field_name(key)} is given twice")
        fields[key] = value.strip()
    if not fields:
        raise MalformedBody("body is empty: expected key=value lines or a JSON object")
    return fields


# --- who sent it, and when ------------------------------------------------------------------------------


class AlertAuthenticator:
    """Token check and `timenow` freshness for one endpoint call."""

    def __init__(self, tokens: Mapping[str, Sequence[str]], max_alert_age: timedelta) -> None:
        self._tokens = tokens  # producer id -> token digests; producers without digests are absent
        self._max_age = max_alert_age

    def authenticate(self, producer_id: str, alert: Mapping[str, Any], now: datetime) -> None:
        """Raises AuthenticationFailed unless `alert` carries one of the producer's tokens and is fresh."""
        if producer_id not in self._tokens:
            # Same wording whether the producer is unknown or merely has no token: ids reveal nothing.
            raise AuthenticationFailed(
                AlertAuthReason.NO_TOKEN_CONFIGURED,
                f"no TradingView token is configured for producer {producer_id[:64]!r} "
                "(add tradingview_token_sha256 to its [[producers]] block)",
            )
        token = alert.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed(AlertAuthReason.MISSING_TOKEN, "the alert has no token field")
        if not TOKEN_PATTERN.fullmatch(token):
            raise AuthenticationFailed(
                AlertAuthReason.BAD_TOKEN,
                f"token is not a SignalDesk TradingView token (at least {MIN_TOKEN_BITS} random bits, "
                "from `signaldesk tradingview new-token`)",
            )
        if not token_matches(self._tokens[producer_id], token):
            raise AuthenticationFailed(AlertAuthReason.BAD_TOKEN, f"token does not match producer {producer_id!r}")
        self._check_fresh(alert.get("timenow"), now)

    def _check_fresh(self, value: Any, now: datetime) -> None:
        if value is None or value == "":
            raise AuthenticationFailed(AlertAuthReason.MISSING_TIMENOW, "the alert has no timenow field ({{timenow}})")
        try:
            if not isinstance(value, str):
                raise ValueError
            fired = parse_timestamp(value)
        except ValueError:
            raise AuthenticationFailed(
                AuthReason.STALE_TIMESTAMP, "timenow must be RFC 3339 UTC as {{timenow}} gives it, e.g. 2026-11-23T10:00:00Z"
            ) from None
        lag = (now - fired).total_seconds()
        limit = self._max_age.total_seconds()
        if abs(lag) > limit:
            where = "old" if lag > 0 else "ahead of server time"
            raise AuthenticationFailed(
                AuthReason.STALE_TIMESTAMP,
                f"alert fired {abs(lag):.0f} s {where}; at most {limit:.0f} s allowed "
                "(a late or replayed alert is refused; check the server clock)",
            )


# --- which instrument -----------------------------------------------------------------------------------


class TickerMap:
    """TradingView tickers (`OANDA:XAUUSD`, `BINANCE:BTCUSDT.P`) to instrument names.

    An explicit entry wins (looked up as sent, then without the exchange, then without a known suffix);
    otherwise the symbol without exchange and suffix is used when it is a known instrument."""

    def __init__(self, explicit: Mapping[str, str], strip_suffixes: Sequence[str], known: Collection[str]) -> None:
        self._explicit = {ticker.upper(): name for ticker, name in explicit.items()}
        self._suffixes = sorted((s.upper() for s in strip_suffixes if s), key=len, reverse=True)
        self._known = frozenset(known) | frozenset(self._explicit.values())

    def instrument(self, ticker: str) -> str | None:
        full = ticker.strip().upper()
        symbol = full.rpartition(":")[2]
        bare = next((symbol[: -len(s)] for s in self._suffixes if symbol.endswith(s) and len(symbol) > len(s)), symbol)
        for candidate in (full, symbol, bare):
            if candidate in self._explicit:
                return self._explicit[candidate]
        return bare if bare in self._known else None


# --- what it means --------------------------------------------------------------------------------------


class AlertTranslator:
    """Turns an authenticated alert into the signed API's JSON body (field problems: InvalidSignal), so the
    same ingest service, rules and dedup apply to it."""

    def __init__(self, tickers: TickerMap, instruments: InstrumentTable) -> None:
        self._tickers = tickers
        self._instruments = instruments

    def translate(self, alert: Mapping[str, Any]) -> bytes:
        problems: list[FieldProblem] = []

        def fail(field: str, reason: str) -> None:
            problems.append(FieldProblem(field, reason))

        for unknown in sorted(set(alert) - KNOWN_FIELDS):
            fail(_field_name(unknown), "unknown field")
        for name in REQUIRED_FIELDS:
            if alert.get(name) in (None, ""):
                fail(name, "is required")

        instrument = self._instrument(alert.get("ticker"), fail)
        side = _side(alert.get("action"), fail)
        _check_position(alert.get("position"), side, fail)
        price = _number(alert, "price", fail)
        bar_time = _bar_time(alert.get("time"), fail)
        point = self._instruments.spec(instrument).point if instrument else None
        stop = _level(alert, "stop", price, side, point, toward_loss=True, fail=fail)
        target = _level(alert, "target", price, side, point, toward_loss=False, fail=fail)
        extras = {k: v for k in ("interval", "comment") if (v := _text(alert, k, fail)) is not None}
        if problems:
            raise InvalidSignal(problems)
        assert instrument and side and price is not None and bar_time and stop is not None and target is not None
        stamp = format_timestamp(bar_time)
        # The authenticator has checked timenow; the ticker resolved to an instrument, so both are text.
        payload = {"source": "tradingview", "ticker": alert["ticker"], "timenow": alert["timenow"], **extras}
        return _json_object(
            {
                "instrument": instrument,
                "side": side.value,
                "price": price,
                "stop_loss": stop,
                "take_profit": target,
                "time": stamp,
                # Deterministic, so a re-fired alert collides with the original in storage (409).
                "external_id": f"tv:{instrument}:{side.value}:{stamp}",
                "payload": payload,
            }
        )

    def _instrument(self, ticker: Any, fail: Fail) -> str | None:
        if ticker in (None, ""):
            return None
        if not isinstance(ticker, str) or len(ticker) > 64:
            fail("ticker", "must be a TradingView ticker such as OANDA:XAUUSD ({{exchange}}:{{ticker}})")
            return None
        if "{{" in ticker:
            fail("ticker", _unfilled(ticker))
            return None
        instrument = self._tickers.instrument(ticker)
        if instrument is None or not INSTRUMENT_PATTERN.fullmatch(instrument):
            fail("ticker", f"unknown ticker {ticker!r}: map it to one of your instruments in the tradingview.tickers "
                           f'table of the configuration ("{ticker.strip().upper()}" = "<INSTRUMENT>")')
            return None
        return instrument


def _side(value: Any, fail: Fail) -> Side | None:
    if value in (None, ""):
        return None
    side = _ACTIONS.get(value.strip().lower()) if isinstance(value, str) else None
    if side is None:
        fail("action", _unfilled(value) if _is_placeholder(value) else 'must be "buy" or "sell" ({{strategy.order.action}})')
    return side


def _check_position(value: Any, side: Side | None, fail: Fail) -> None:
    """`{{strategy.market_position}}` tells an entry from an exit: TradingView fires an alert for every
    order fill, and an exit (a sell that closes a long) must not become a new sell signal."""
    if value in (None, "") or side is None:
        return
    position = value.strip().lower() if isinstance(value, str) else value
    if position not in ("long", "short", "flat"):
        fail("position", _unfilled(value) if _is_placeholder(value) else 'must be "long", "short" or "flat" ({{strategy.market_position}})')
    elif position != _POSITION_AFTER_ENTRY[side]:
        fail("position", f"is {position} after a {side.value}: this order reduces or closes a position, "
                         "it is not a new signal (only entries are sent to the desk)")


def _number(alert: Mapping[str, Any], name: str, fail: Fail) -> Decimal | None:
    value = alert.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = Decimal(value.strip())
    if not isinstance(value, Decimal) or not value.is_finite():
        if _is_placeholder(value):
            fail(name, _unfilled(value))
        elif isinstance(value, str) and value.strip().lower() == "nan":
            fail(name, "is NaN: the plot has no value on this bar")
        else:
            fail(name, "must be a number")
        return None
    if value <= 0:
        fail(name, "must be greater than 0")
        return None
    # Plot values can carry float noise (2390.1200000000001); the signed API takes at most 10 decimals.
    if -value.as_tuple().exponent > MAX_PRICE_DECIMALS:  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-MAX_PRICE_DECIMALS))
    return value


def _level(
    alert: Mapping[str, Any], name: str, price: Decimal | None, side: Side | None,
    point: Decimal | None, *, toward_loss: bool, fail: Fail,
) -> Decimal | None:
    """A stop or target: an absolute price (`stop`), or a distance in the instrument's points (`stop_points`)."""
    absolute, distance = alert.get(name) not in (None, ""), alert.get(f"{name}_points") not in (None, "")
    if absolute == distance:
        fail(name, f"give exactly one of {name} (a price) and {name}_points (a distance in points)")
        return None
    if absolute:
        return _number(alert, name, fail)
    points = _number(alert, f"{name}_points", fail)
    if points is None or price is None or side is None or point is None:
        return None
    below = (side is Side.BUY) == toward_loss
    return price - points * point if below else price + points * point


def _bar_time(value: Any, fail: Fail) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_timestamp(value)
    except ValueError:
        fail("time", _unfilled(value) if _is_placeholder(value) else "must be the bar time as {{time}} gives it, e.g. 2026-11-23T10:00:00Z")
        return None


def _text(alert: Mapping[str, Any], name: str, fail: Fail) -> str | None:
    value = alert.get(name)
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = str(value)  # e.g. "interval": 60
    if not isinstance(value, str) or len(value) > MAX_TEXT_FIELD:
        fail(name, f"must be text of at most {MAX_TEXT_FIELD} characters")
        return None
    return value


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _unfilled(value: Any) -> str:
    shown = str(value)[:40]
    return f"still holds the placeholder {shown!r}: TradingView did not fill it (is it available to this alert?)"


def _field_name(key: str) -> str:
    """A key as it may be shown in a response: a misplaced token must never be echoed."""
    return key if _FIELD_NAME.fullmatch(key) else "(a key that is not a field name)"


def _json_object(value: Mapping[str, Any]) -> bytes:
    """JSON with Decimals written as exact numbers (json.dumps would need floats)."""
    parts = []
    for key, item in value.items():
        encoded = format(item, "f") if isinstance(item, Decimal) else json.dumps(item, ensure_ascii=False)
        parts.append(f"{json.dumps(key)}:{encoded}")
    return ("{" + ",".join(parts) + "}").encode("utf-8")


# --- where it came from ---------------------------------------------------------------------------------

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Addresses or CIDR networks; raises ValueError naming the bad one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


class ClientAddressPolicy:
    """The address allowlist, with `X-Forwarded-For` believed only when the peer is a trusted proxy."""

    def __init__(self, allowed: Iterable[str], trusted_proxies: Iterable[str]) -> None:
        self._allowed = parse_networks(allowed)
        self._proxies = parse_networks(trusted_proxies)

    def refusal(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """Why a request from `peer` (with these X-Forwarded-For headers) is not allowed; None if it is."""
        if not self._allowed:
            return None
        client = self.client_address(peer, forwarded_for)
        if client is None:
            return "the client address cannot be determined (check trusted_proxies and X-Forwarded-For)"
        if not _within(client, self._allowed):
            return f"address {client} is not in tradingview.allowed_ips"
        return None

    def client_address(self, peer: str | None, forwarded_for: Sequence[str]) -> IpAddress | None:
        """The nearest address that is not a trusted proxy: walk X-Forwarded-For from the right while
        each hop was added by a proxy we trust (anything further left is the client's to forge)."""
        address = _address(peer)
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
        while address is not None and _within(address, self._proxies) and hops:
            address = _address(hops.pop())
        return address


def _address(text: str | None) -> IpAddress | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _within(address: IpAddress, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


@dataclass(frozen=True)
class TradingViewIntake:
    """Everything the TradingView endpoint checks, built once from configuration."""

    addresses: ClientAddressPolicy
    authenticator: AlertAuthenticator
    translator: AlertTranslator
