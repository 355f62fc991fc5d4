"""The watchdog's judgement: is the database answering, is the heartbeat on time. Alerts on changes only.

It is run by its own loop (not a scheduler job), so a stuck or dead scheduler shows as a late heartbeat
instead of silencing the check itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.notify import OpsAlert, OpsAlerts, Severity

HEARTBEAT = "heartbeat"  # the `heartbeats` row the heartbeat job writes on every beat
LATE_AFTER_BEATS = 3  # the heartbeat is late when this many intervals pass without a beat


@dataclass(frozen=True)
class WatchPolicy:
    heartbeat_interval: timedelta
    probe_timeout_seconds: float


class HealthWatch:
    def __init__(
        self, last_beat: Callable[[], Awaitable[datetime | None]], policy: WatchPolicy, clock: Clock, alerts: OpsAlerts
    ) -> None:
        self._last_beat = last_beat  # reading it is also the database probe
        self._policy = policy
        self._clock = clock
        self._alerts = alerts
        self._watching_since = clock.now()  # before the first beat, lateness counts from here
        self._database_down_since: datetime | None = None
        self._late = False

    async def check(self) -> None:
        now = self._clock.now()
        try:
            async with asyncio.timeout(self._policy.probe_timeout_seconds):
                beat = await self._last_beat()
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the database did not answer
            await self._database_failed(now, exc)
            return  # the heartbeat is written to the database too: nothing more to learn now
        await self._database_answered(now)
        await self._heartbeat_seen(now, beat)

    async def _database_failed(self, now: datetime, exc: Exception) -> None:
        if self._database_down_since is not None:
            return
        self._database_down_since = now
        reason = "no answer within the probe timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        await self._alerts.alert(OpsAlert(
            "database_down", Severity.CRITICAL, f"The database is unavailable ({reason}).", "",
            "Producers get 503 with Retry-After; approvals, executions and messages wait. Probing until it answers.",
        ))

    async def _database_answered(self, now: datetime) -> None:
        if self._database_down_since is None:
            return
        down_for = now - self._database_down_since
        self._database_down_since = None
        await self._alerts.alert(OpsAlert(
            "database_back", Severity.INFO, f"The database answers again after {_duration(down_for)}.", "",
            "Normal operation resumed; waiting work continues from where it stopped.",
        ))

    async def _heartbeat_seen(self, now: datetime, beat: datetime | None) -> None:
        # A beat from before the watchdog started (a previous run) does not make the new run late at once.
        beat_since_start = beat if beat is not None and beat > self._watching_since else None
        age = now - (beat_since_start or self._watching_since)
        limit = self._policy.heartbeat_interval * LATE_AFTER_BEATS
        if age > limit and not self._late:
            self._late = True
            last = f"last beat {_duration(age)} ago" if beat_since_start else f"no beat since start {_duration(age)} ago"
            await self._alerts.alert(OpsAlert(
                "heartbeat_late", Severity.CRITICAL, f"The heartbeat is late ({last}; expected every {_duration(self._policy.heartbeat_interval)}).", "",
                "None automatically: scheduled jobs (execution, drawdown guard) may have stopped. Check the scheduler and the logs.",
            ))
        elif age <= limit and self._late:
            self._late = False
            await self._alerts.alert(OpsAlert(
                "heartbeat_back", Severity.INFO, "The heartbeat is on time again.", "", "Scheduled jobs are running again.",
            ))


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
