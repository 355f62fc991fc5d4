"""Async client for the SignalDesk producer API (CONVENTIONS.md §3).

    async with ProducerClient("http://127.0.0.1:8080", "alpha", secret) as client:
        result = await client.send_signal("XAUUSD", "buy", Decimal("2400.50"), Decimal("2390"), Decimal("2420"))
        print(result.created, result.signal["id"])

Every request is signed with `core.signing.sign`, the function the server verifies with. Transient failures
(connection errors, timeouts, 5xx, 429) are retried with exponential backoff; a POST keeps one
X-Idempotency-Key across its retries, so a retry after a lost response replays instead of duplicating.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from time import monotonic
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlencode

import aiohttp
from pydantic import SecretStr
from yarl import URL

from core.signing import format_timestamp, sign

log = logging.getLogger(__name__)

SIGNALS_PATH = "/api/v1/signals"
QUOTES_PATH = "/api/v1/quotes"
JITTER = 0.1

Price = Decimal | int | float | str


@dataclass(frozen=True)
class QuoteIn:
    """One quote to push: `time` is timezone-aware (sent as RFC 3339 UTC)."""

    instrument: str
    bid: Price
    ask: Price
    time: datetime


@dataclass(frozen=True)
class SendResult:
    """The server's signal; `created` is False when the server replayed an earlier call (200, same key)."""

    created: bool
    signal: dict[str, Any]


class ProducerClientError(Exception):
    """Base of the errors this client raises."""


class ProducerApiError(ProducerClientError):
    """The server answered with an error (any 4xx, or 5xx/429 on the last try); carries its problem+json."""

    def __init__(self, status: int, problem: Mapping[str, Any], attempts: int) -> None:
        self.status = status
        self.problem = dict(problem)
        self.type: str = str(problem.get("type", "about:blank"))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.errors: list[Any] = list(problem.get("errors") or [])
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"HTTP {self.status} {self.title}".rstrip()
        if self.detail:
            text += f": {self.detail}"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        for error in self.errors:
            # §3 names each problem {"field", "reason"}; anything else is shown as it came.
            named = isinstance(error, dict) and {"field", "reason"} <= error.keys()
            text += f"\n  - {error['field']}: {error['reason']}" if named else f"\n  - {error}"
        return text


class ProducerConnectionError(ProducerClientError):
    """The server could not be reached (or did not answer in time) on any try."""

    def __init__(self, method: str, url: str, attempts: int, cause: BaseException) -> None:
        self.attempts = attempts
        super().__init__(f"{method} {url} failed after {attempts} attempts: {type(cause).__name__}: {cause}")


# Worth another try: the request may not have reached the server, or the server said "later".
_TRANSIENT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class ProducerClient:
    """Signed, retrying client for one producer. Use as `async with`; pass `session` to share an aiohttp
    ClientSession (it is then left open). `clock`, `sleep` and `rng` are injectable for tests."""

    def __init__(
        self,
        base_url: str,
        producer_id: str,
        secret: str | SecretStr,
        *,
        session: aiohttp.ClientSession | None = None,
        max_tries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 120.0,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._base_url = URL(base_url)
        if not self._base_url.absolute or self._base_url.scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        self.producer_id = producer_id
        # SecretStr keeps the secret out of vars() dumps and debugger views, not only out of our repr.
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        if not self._secret.get_secret_value():
            raise ValueError("secret must not be empty")
        self._session = session
        self._owns_session = session is None
        self._max_tries = max_tries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"ProducerClient(base_url={str(self._base_url.with_user(None))!r}, producer_id={self.producer_id!r})"

    async def __aenter__(self) -> Self:
        if self._owns_session:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send_signal(
        self,
        instrument: str,
        side: str,
        price: Price,
        stop_loss: Price,
        take_profit: Price,
        time: datetime | str | None = None,
        external_id: str | None = None,
        version: int = 1,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> SendResult:
        """POST a signal. `time` defaults to now; a str is sent verbatim. Prices are sent as exact JSON numbers."""
        body: dict[str, Any] = {
            "instrument": instrument,
            "side": side,
            "price": _decimal(price),
            "stop_loss": _decimal(stop_loss),
            "take_profit": _decimal(take_profit),
            "time": time if isinstance(time, str) else format_timestamp(_aware(time or self._clock())),
            "version": version,
        }
        if external_id is not None:
            body["external_id"] = external_id
        if payload is not None:
            body["payload"] = payload
        # One key per call, reused by every retry: that is what makes retrying a POST safe.
        key = idempotency_key or str(uuid.uuid4())
        status, signal = await self._request("POST", SIGNALS_PATH, _dumps(body).encode("utf-8"), key)
        return SendResult(created=status == 201, signal=signal)

    async def send_quotes(self, quotes: Sequence[QuoteIn]) -> dict[str, Any]:
        """POST quotes (oldest first); answers the server's verdicts: `accepted`, `refused` and one result per
        quote. A refused quote is not an error (ops are alerted); a misshapen body raises ProducerApiError."""
        body = {
            "quotes": [
                {"instrument": q.instrument, "bid": _decimal(q.bid), "ask": _decimal(q.ask), "time": format_timestamp(_aware(q.time))}
                for q in quotes
            ]
        }
        # No idempotency key: resending quotes is harmless (a repeat is refused as a duplicate, nothing traded twice).
        _, verdicts = await self._request("POST", QUOTES_PATH, _dumps(body).encode("utf-8"))
        return verdicts

    async def get_signal(self, signal_id: str) -> dict[str, Any]:
        _, signal = await self._request("GET", f"{SIGNALS_PATH}/{quote(str(signal_id), safe='')}")
        return signal

    async def list_signals(
        self,
        status: str | None = None,
        instrument: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of this producer's signals, as the server returns it (pass its cursor to get the next)."""
        # Fixed parameter order: the query is part of what is signed, so it must be built once, deterministically.
        filters = (("status", status), ("instrument", instrument), ("limit", limit), ("cursor", cursor))
        params = [(name, str(value)) for name, value in filters if value is not None]
        endpoint = f"{SIGNALS_PATH}?{urlencode(params)}" if params else SIGNALS_PATH
        _, page = await self._request("GET", endpoint)
        return page

    async def _request(
        self, method: str, api_endpoint: str, body: bytes = b"", idempotency_key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        if self._session is None:
            raise RuntimeError("ProducerClient is not open: use 'async with ProducerClient(...)' or pass a session")
        # Sign exactly what goes on the wire: the base URL's path prefix plus the already-encoded endpoint.
        endpoint = self._base_url.path.rstrip("/") + api_endpoint
        url = URL(str(self._base_url.origin()) + endpoint, encoded=True)
        key_field = f" idempotency_key={idempotency_key}" if idempotency_key else ""
        for attempt in range(1, self._max_tries + 1):
            fields = f"method={method} endpoint={endpoint} attempt={attempt}/{self._max_tries}{key_field}"
            started = monotonic()
            retry_after: float | None = None
            failure: ProducerClientError
            try:
                async with self._session.request(
                    method,
                    url,
                    data=body or None,
                    headers=self._signed_headers(method, endpoint, body, idempotency_key),
                    timeout=self._timeout,
                    allow_redirects=False,  # a redirect would change the signed endpoint
                    raise_for_status=False,  # an external session may have it on; we read every status ourselves
                ) as response:
                    status, text = response.status, await response.text()
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    reason = response.reason or ""
            except _TRANSIENT_ERRORS as exc:
                outcome = f"error={type(exc).__name__}"
                failure = ProducerConnectionError(method, str(url), attempt, exc)
                failure.__cause__ = exc
            else:
                outcome = f"status={status}"
                document = _json_object(text)
                if 200 <= status < 300 and document is not None:
                    log.info("producer_request %s %s elapsed_ms=%d", fields, outcome, _ms_since(started))
                    return status, document
                failure = ProducerApiError(status, document or _problem(status, reason, text), attempt)
                if status != 429 and status < 500:
                    log.warning("producer_request %s %s elapsed_ms=%d retryable=false",
                                fields, outcome, _ms_since(started))
                    raise failure
            if attempt == self._max_tries:
                log.warning("producer_request %s %s elapsed_ms=%d giving_up=true", fields, outcome, _ms_since(started))
                raise failure
            delay = self._delay(attempt, retry_after)
            log.warning("producer_request %s %s elapsed_ms=%d retry_in=%.2f",
                        fields, outcome, _ms_since(started), delay)
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _signed_headers(self, method: str, endpoint: str, body: bytes, idempotency_key: str | None) -> dict[str, str]:
        # A fresh timestamp per attempt: a retry after a long backoff must still be inside the server's skew.
        timestamp = format_timestamp(self._clock())
        signature = sign(self._secret.get_secret_value(), method, endpoint, timestamp, self.producer_id, body)
        headers = {
            "X-Producer-Id": self.producer_id,
            "X-Timestamp": timestamp,
            "X-Signature": signature,
            "Accept": "application/json, application/problem+json",
        }
        if body:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        return headers

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Backoff ×2 per try with ±10% jitter; never sooner than the server's Retry-After; never over the cap."""
        backoff = self._backoff_base * 2 ** (attempt - 1) * self._rng.uniform(1 - JITTER, 1 + JITTER)
        return min(self._backoff_cap, max(backoff, retry_after or 0.0))


def _ms_since(started: float) -> int:
    return round((monotonic() - started) * 1000)


def _decimal(value: Price) -> Decimal:
    try:
        # Through str so a float 2400.5 becomes Decimal("2400.5"), not its binary expansion.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"price must be a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"price must be a finite number, got {value!r}")
    return number


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("time must be timezone-aware (UTC)")
    return moment


def _dumps(value: Any) -> str:
    """JSON with Decimals written as exact numbers (json.dumps would need floats, and floats add noise)."""
    if isinstance(value, Decimal):
        return str(_decimal(value))
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _problem(status: int, reason: str, text: str) -> dict[str, Any]:
    """A problem document for answers that carry none (a proxy's HTML 502, a 2xx that is not JSON)."""
    return {"title": reason or "unexpected response", "status": status, "detail": text.strip()[:200]}


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is not used by our server and falls back to backoff."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
