"""Driving the execution service: at once when a trader approves, and from a periodic job that also picks
up what a crashed worker or a waiting order left behind."""

from __future__ import annotations

import asyncio
import logging

from core.execution import ExecutionService

log = logging.getLogger(__name__)


class ExecutionDriver:
    def __init__(self, service: ExecutionService) -> None:
        self._service = service
        self._running = asyncio.Lock()
        self._again = False
        self._triggered: set[asyncio.Task[None]] = set()

    def trigger(self) -> None:
        """Run now, without waiting for the caller (an approval press must be answered at once)."""
        task = asyncio.get_running_loop().create_task(self.drain(), name="execution-trigger")
        self._triggered.add(task)
        task.add_done_callback(self._triggered.discard)

    async def sweep(self) -> None:
        """The periodic job's entry (a coroutine, so APScheduler runs it on the loop, not in a thread)."""
        self.trigger()

    async def drain(self) -> None:
        """Execute batches until none is full. A call while a drain runs makes that drain go round again
        instead of running beside it."""
        if self._running.locked():
            self._again = True
            return
        async with self._running:
            while True:
                self._again = False
                try:
                    claimed = await self._service.run_once()
                except Exception:  # noqa: BLE001 - e.g. the database is down: the next run retries
                    log.exception("event=job_failed job=execution")
                    return
                if claimed < self._service.batch and not self._again:
                    return

    async def close(self) -> None:
        for task in list(self._triggered):
            task.cancel()
        await asyncio.gather(*self._triggered, return_exceptions=True)
