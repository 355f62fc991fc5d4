"""Bursts of failed producer authentication: a leaked or rotated secret, a misconfigured producer, or an attack.

Failures are counted per known producer, and together for ids the desk does not know (so a scan with
made-up ids cannot grow memory). `threshold` failures within `window` raise one alert and start a new count."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass

from core.clock import Clock
from core.notify import OpsAlert, OpsAlerts, Severity

UNKNOWN_IDS = "unknown producer ids"


@dataclass(frozen=True)
class AuthWatchPolicy:
    threshold: int = 10
    window_seconds: float = 60


class AuthFailureWatch:
    def __init__(self, known_producers: Collection[str], policy: AuthWatchPolicy, clock: Clock, alerts: OpsAlerts) -> None:
        self._known = frozenset(known_producers)
        self._policy = policy
        self._clock = clock
        self._alerts = alerts
        self._failures: dict[str, deque[float]] = {}

    async def failed(self, producer_id: str | None, reason: str) -> None:
        """One request refused with 401; `producer_id` as the request claimed it (None when absent)."""
        subject = f"producer {producer_id}" if producer_id in self._known else UNKNOWN_IDS
        now = self._clock.monotonic()
        times = self._failures.setdefault(subject, deque())
        times.append(now)
        while times[0] <= now - self._policy.window_seconds:
            times.popleft()
        if len(times) < self._policy.threshold:
            return
        times.clear()
        await self._alerts.alert(burst_alert(subject, self._policy, reason))


def burst_alert(subject: str, policy: AuthWatchPolicy, last_reason: str) -> OpsAlert:
    return OpsAlert(
        "auth_failures", Severity.WARNING,
        f"{policy.threshold} failed authentications within {policy.window_seconds:g} s (last: {last_reason}): "
        "a rotated or leaked secret, a misconfigured producer, or an attack.",
        subject,
        "Refused each request with 401; nothing was stored. Check the producer's secret and clock, or block the source.",
    )
