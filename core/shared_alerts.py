"""Ops alerts deduplicated across instances that share one database.

Each instance's `AlertGate` suppresses and counts its own repeats; this puts a lease per alert key in front
of it, held for the alert window by the instance that let the alert out first, so a repeat raised on
another instance within the window is dropped there (and logged) instead of reaching ops a second time."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

from core.clock import Clock
from core.leadership import JobLeases
from core.notify import OpsAlert, OpsAlerts

log = logging.getLogger("signaldesk.ops_alerts")
NAME_LENGTH = 64  # a lease name's width in storage
PREFIX = "alert:"


class AlertsOnceAcrossInstances:
    def __init__(
        self, inner: OpsAlerts, leases: JobLeases, holder: str, window: timedelta, clock: Clock, timeout_seconds: float
    ) -> None:
        self._inner = inner
        self._leases = leases
        self._holder = holder
        self._window = window
        self._clock = clock
        self._timeout = timeout_seconds

    async def alert(self, alert: OpsAlert) -> None:
        if await self._first_across_instances(alert):
            await self._inner.alert(alert)
        else:
            log.info("event=ops_alert_suppressed kind=%s subject=%r by=another_instance", alert.kind, alert.subject)

    async def _first_across_instances(self, alert: OpsAlert) -> bool:
        now = self._clock.now()
        try:
            async with asyncio.timeout(self._timeout):
                return await self._leases.acquire(lease_name(alert), self._holder, now, now + self._window)
        except Exception:  # noqa: BLE001 - the database may be what the alert is about: better twice than never
            return True


def lease_name(alert: OpsAlert) -> str:
    name = PREFIX + alert.key
    if len(name) <= NAME_LENGTH:
        return name
    return PREFIX + hashlib.sha256(alert.key.encode()).hexdigest()[: NAME_LENGTH - len(PREFIX)]
