"""What /status reports: gathered with a deadline, so a slow or dead dependency shows as down, not as silence."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from core.clock import Clock
from storage.desk_queries import SqlDeskQueries
from storage.outbox_store import SqlOutbox

PART_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class DeskStatus:
    version: str
    uptime: timedelta
    database_up: bool
    signals_today: dict[str, int] = field(default_factory=dict)
    outbox_depth: int | None = None
    oldest_waiting: timedelta | None = None


class StatusReporter:
    def __init__(self, queries: SqlDeskQueries, outbox: SqlOutbox, clock: Clock, version: str) -> None:
        self._queries = queries
        self._outbox = outbox
        self._clock = clock
        self._version = version
        self._started = clock.monotonic()

    async def report(self) -> DeskStatus:
        now = self._clock.now()
        uptime = timedelta(seconds=int(self._clock.monotonic() - self._started))
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            async with asyncio.timeout(PART_TIMEOUT_SECONDS):
                counts = await self._queries.status_counts(midnight)
                depth, oldest = await self._outbox.depth()
        except Exception:  # noqa: BLE001 - any failure here means "database down" to an admin
            return DeskStatus(self._version, uptime, database_up=False)
        return DeskStatus(self._version, uptime, True, counts, depth, (now - oldest) if oldest else None)


def render_status(status: DeskStatus) -> str:
    lines = [f"<b>SignalDesk {status.version}</b> · up {status.uptime}"]
    if not status.database_up:
        lines.append("Database: <b>DOWN</b> (no answer within 0.5 s)")
        return "\n".join(lines)
    signals = ", ".join(f"{name} {count}" for name, count in sorted(status.signals_today.items())) or "none"
    oldest = f", oldest waiting {int(status.oldest_waiting.total_seconds())} s" if status.oldest_waiting else ""
    lines += [
        "Database: up",
        f"Signals today: {signals}",
        f"Outbox: {status.outbox_depth} waiting{oldest}",
        "Execution, heartbeat and broker: not enabled yet",
    ]
    return "\n".join(lines)


