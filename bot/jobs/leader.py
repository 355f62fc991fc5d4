"""Running on the lease holder only: scheduler jobs are skipped elsewhere, and long-running loops (the
outbox sender, the watchdog) are started when this instance takes the lease and cancelled when it loses it.
A loop is built afresh on each take-over, so it starts from the database's state, not from this
instance's memory of an earlier term."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from typing import Any

from core.leadership import Leadership

log = logging.getLogger(__name__)
Loop = Callable[[], Coroutine[Any, Any, None]]


def leader_only(leadership: Leadership, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    async def run_if_leading() -> None:
        if leadership.leading:
            await job()

    return run_if_leading


class LeaderLoops:
    def __init__(self, leadership: Leadership, loops: Mapping[str, Loop]) -> None:
        self._leadership = leadership
        self._loops = loops
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def refresh(self) -> None:
        """Renew (or try to take) the lease, then start or stop the loops to match."""
        leading = await self._leadership.refresh()
        if leading and not self._tasks:
            self._tasks = [asyncio.create_task(loop(), name=name) for name, loop in self._loops.items()]
            for task in self._tasks:
                task.add_done_callback(_report_end)
        elif not leading and self._tasks:
            await self.stop()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@asynccontextmanager
async def leading(leadership: Leadership, loops: Mapping[str, Loop]) -> AsyncIterator[LeaderLoops]:
    """Keep the lease renewed while the block runs; on the way out stop the loops and give the lease up."""
    leader_loops = LeaderLoops(leadership, loops)
    await leader_loops.refresh()  # at once: a lone instance starts its jobs without waiting for a renewal
    renewal = asyncio.create_task(_renew(leader_loops, leadership.renew_every.total_seconds()), name="lease-renewal")
    try:
        yield leader_loops
    finally:
        renewal.cancel()
        await asyncio.gather(renewal, return_exceptions=True)
        await leader_loops.stop()
        await leadership.resign()


async def _renew(loops: LeaderLoops, every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await loops.refresh()
        except Exception:  # noqa: BLE001 - the next renewal tries again; the lease outlives two misses
            log.exception("event=lease_refresh_failed")


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("event=leader_loop_failed loop=%s", task.get_name(), exc_info=error)
