"""A token bucket per producer: a misbehaving producer is slowed down without starving the others."""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import Clock
from core.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class ProducerRateLimiter:
    def __init__(self, rate_per_second: float, burst: int, clock: Clock) -> None:
        self._rate = rate_per_second
        self._burst = float(max(burst, 1))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, producer_id: str) -> None:
        """Take one token for `producer_id` or raise RateLimited with the wait until the next one."""
        if self._rate <= 0:
            return
        now = self._clock.monotonic()
        bucket = self._buckets.setdefault(producer_id, _Bucket(self._burst, now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimited((1 - bucket.tokens) / self._rate)
        bucket.tokens -= 1
