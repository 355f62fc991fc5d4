"""The watchdog's loop: its own asyncio task, beside the scheduler rather than inside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.health_watch import HealthWatch

log = logging.getLogger(__name__)


@asynccontextmanager
async def watching(watch: HealthWatch, period_seconds: float) -> AsyncIterator[None]:
    task = asyncio.create_task(_loop(watch, period_seconds), name="watchdog")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _loop(watch: HealthWatch, period_seconds: float) -> None:
    while True:
        try:
            await watch.check()
        except Exception:  # an alert that could not be delivered must not end the watch
            log.exception("event=watchdog_check_failed")
        await asyncio.sleep(period_seconds)
