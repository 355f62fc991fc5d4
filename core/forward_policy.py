"""Outbound forwarding's rules: what a target is, what goes to it, when to try again and when to stop."""

from __future__ import annotations

import enum
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from core.signals import Signal


class ForwardEvent(enum.StrEnum):
    ACCEPTED = "accepted"  # at ingest, in the transaction that stores the signal
    EXECUTED = "executed"  # when the first order for the signal is placed, in that transaction


@dataclass(frozen=True)
class ForwardTarget:
    url: str  # also names the target's deliveries in the queue
    producer_id: str  # who this desk is to the receiver
    secret: str = field(repr=False)
    events: frozenset[ForwardEvent] = frozenset(ForwardEvent)
    max_attempts: int = 50
    max_age: timedelta = timedelta(hours=6)
    timeout_seconds: float = 10.0

    @property
    def name(self) -> str:
        """The URL without credentials or query, for logs and alerts."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class Verdict(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # the receiver may take it later
    REFUSED = "refused"  # the receiver will never take it as it is


def verdict(status: int | None) -> Verdict:
    """What an answer means; None is no answer at all (connection error, timeout)."""
    if status is None or status in (408, 429) or status >= 500:
        return Verdict.RETRY
    # 409: the receiver already has this signal (an earlier attempt's answer was lost, or a duplicate).
    if 200 <= status < 300 or status == 409:
        return Verdict.DELIVERED
    return Verdict.REFUSED  # other 4xx, and redirects: the signed endpoint would change


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 1.0
    factor: float = 2.0
    jitter: float = 0.1
    cap_seconds: float = 120.0

    def delay(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after the `failures`-th failed attempt: ×factor each time, ±jitter so that
        many deliveries failed together do not retry together, never sooner than the receiver's
        Retry-After, never longer than the cap."""
        base = self.first_seconds * self.factor ** min(failures - 1, 64)
        return min(self.cap_seconds, max(base * rng.uniform(1 - self.jitter, 1 + self.jitter), retry_after or 0.0))


@dataclass(frozen=True)
class ForwardItem:
    """One queued delivery, claimed for an attempt."""

    id: int
    target: str  # the target's url
    event: ForwardEvent
    signal: Signal
    attempt: int  # this attempt's number, from 1
    queued_at: datetime

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt, so a receiver that got an attempt whose answer was lost replays it."""
        return f"{self.signal.id}-{self.event}"


def given_up(target: ForwardTarget, item: ForwardItem, next_due: datetime) -> bool:
    return item.attempt >= target.max_attempts or next_due - item.queued_at > target.max_age


def forward_body(signal: Signal) -> bytes:
    """The signal as a producer would POST it (CONVENTIONS.md §3). `external_id` is this desk's signal id,
    unique per desk where producers' own ids are not, and how the receiver's copy leads back here."""
    body = {
        "instrument": signal.instrument,
        "side": signal.side.value,
        "price": _number(signal.price),
        "stop_loss": _number(signal.stop_loss),
        "take_profit": _number(signal.take_profit),
        "time": signal.time.isoformat().replace("+00:00", "Z"),
        "version": signal.version,
        "external_id": signal.id,
    }
    if signal.payload is not None:
        body["payload"] = signal.payload
    return json.dumps(body, separators=(",", ":")).encode()


def _number(value: Decimal) -> int | float:
    # Prices carry at most 15 significant digits, which a float prints back exactly.
    return int(value) if value == value.to_integral_value() else float(value)
