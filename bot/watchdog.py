"""The watchdog's loop: its own asyncio task, beside the scheduler rather than inside it. It runs on the
instance that holds the job lease (bot/jobs/leader.py), so an outage is reported once, not per instance."""

from __future__ import annotations

import asyncio
import logging

from core.health_watch import HealthWatch

log = logging.getLogger(__name__)


async def watch_health(watch: HealthWatch, period_seconds: float) -> None:
    while True:
        try:
            await watch.check()
        except Exception:  # an alert that could not be delivered must not end the watch
            log.exception("event=watchdog_check_failed")
        await asyncio.sleep(period_seconds)
