"""Group commit: one writer task commits every request waiting at that moment in one transaction, and
answers each request only after that commit. Durability per request, at the cost of one fsync per batch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from core.errors import StorageUnavailable

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

# Writes a whole batch in one transaction; returns one result or domain error per item, in order.
BatchWriter = Callable[[Sequence[Item]], Awaitable[Sequence["Outcome | Exception"]]]


@dataclass
class _Pending(Generic[Item, Outcome]):
    item: Item
    future: asyncio.Future[Outcome]


class GroupCommitter(Generic[Item, Outcome]):
    def __init__(self, write_batch: BatchWriter, *, max_batch: int = 256, timeout_seconds: float = 10.0) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._timeout = timeout_seconds
        self._queue: asyncio.Queue[_Pending[Item, Outcome]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def close(self) -> None:
        """Finish what was submitted, then stop."""
        self._closing = True
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def submit(self, item: Item) -> Outcome:
        if self._closing or self._task is None:
            raise StorageUnavailable("the service is shutting down")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(item, future))
        # shield: a client that hangs up must not cancel the write others share; the row is still stored
        # and a retry with the same idempotency key gets it back.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending[Item, Outcome]]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                outcomes = await self._write_batch([p.item for p in batch])
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("event=storage_unavailable batch=%d error=%s", len(batch), type(exc).__name__)
            outcomes = [StorageUnavailable("the database is unavailable; nothing was stored")] * len(batch)
        except Exception:
            # A bug must not kill the writer; the transaction was rolled back, so refuse the batch cleanly.
            log.exception("event=batch_write_failed batch=%d", len(batch))
            outcomes = [StorageUnavailable("the signal could not be stored; nothing was written")] * len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
