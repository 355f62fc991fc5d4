"""Group commit: the requests waiting when a write starts share its one transaction, and each is
answered only after that commit. Durability per request, at the cost of one fsync per batch.

A write takes its batch when it starts, not when it is scheduled. With a runner that keeps work in
order (the SQLite writer thread) the next write is handed over while the current one runs, so the
thread starts it the moment the previous commit returns, with everything that arrived meanwhile,
instead of waiting for the busy event loop to notice the commit and schedule the next write."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.errors import StorageUnavailable
from storage.batch_runner import BatchRunner

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

# Writes a whole batch inside the runner's transaction; returns one result or domain error per item, in order.
BatchWriter = Callable[[Connection, Sequence[Item]], Sequence["Outcome | Exception"]]
_Pending = tuple[Item, "asyncio.Future[Outcome]"]
_Write = asyncio.Future[Sequence["Outcome | Exception"]]


class GroupCommitter(Generic[Item, Outcome]):
    def __init__(
        self, runner: BatchRunner, write_batch: BatchWriter, *, max_batch: int = 256, timeout_seconds: float = 10.0
    ) -> None:
        self._runner = runner
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._timeout = timeout_seconds
        # One write running and the next handed over, when the runner keeps them in order; otherwise one.
        self._depth = 2 if runner.in_order else 1
        self._waiting: deque[_Pending[Item, Outcome]] = deque()
        self._writes: set[_Write] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Finish what was submitted, then stop."""
        self._closing = True
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def submit(self, item: Item) -> asyncio.Future[Outcome]:
        """The outcome of `item`, once its batch is committed (or refused)."""
        loop = self._loop
        if self._closing or loop is None:
            raise StorageUnavailable("the service is shutting down")
        # A client that hangs up cancels only its own future: the write it shares goes on, the row is
        # stored, and a retry with the same idempotency key gets it back.
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._writes) < self._depth:
            self._launch(loop)
        return future

    def _launch(self, loop: asyncio.AbstractEventLoop) -> None:
        taken: list[_Pending[Item, Outcome]] = []
        # Handed over now, not when the loop next gets round to it.
        write: _Write = asyncio.ensure_future(self._runner.run(lambda conn: self._take_and_write(conn, taken)), loop=loop)
        self._writes.add(write)
        watchdog = loop.call_later(self._timeout, self._stalled, loop, write, taken)
        write.add_done_callback(lambda _: self._written(loop, write, taken, watchdog))

    def _take_and_write(self, conn: Connection, taken: list[_Pending[Item, Outcome]]) -> Sequence[Outcome | Exception]:
        """Runs where the runner runs (the writer thread on SQLite): the batch is what waits right now."""
        taken.extend(self._take(self._max_batch))
        return self._write_batch(conn, [item for item, _ in taken]) if taken else []

    def _take(self, limit: int) -> list[_Pending[Item, Outcome]]:
        waiting, batch = self._waiting, []
        # deque.popleft is atomic, so the writer thread may take while the loop appends.
        while waiting and len(batch) < limit:
            batch.append(waiting.popleft())
        return batch

    def _written(
        self, loop: asyncio.AbstractEventLoop, write: _Write, taken: list[_Pending[Item, Outcome]], watchdog: asyncio.TimerHandle
    ) -> None:
        watchdog.cancel()
        self._writes.discard(write)
        error = write.exception()
        if error is None:
            outcomes = write.result()
        else:
            if not taken:  # it failed before taking its batch: answer those waiting instead
                taken.extend(self._take(self._max_batch))
            if isinstance(error, (SQLAlchemyError, OSError)):
                log.warning("event=storage_unavailable batch=%d error=%s", len(taken), type(error).__name__)
                outcomes = [StorageUnavailable("the database is unavailable; nothing was stored")] * len(taken)
            else:
                # A bug must not stop ingest; the transaction was rolled back, so refuse the batch cleanly.
                log.error("event=batch_write_failed batch=%d", len(taken), exc_info=error)
                outcomes = [StorageUnavailable("the signal could not be stored; nothing was written")] * len(taken)
        if self._waiting and len(self._writes) < self._depth:
            self._launch(loop)
        for (_, future), outcome in zip(taken, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _stalled(self, loop: asyncio.AbstractEventLoop, write: _Write, taken: list[_Pending[Item, Outcome]]) -> None:
        """The write has not finished in time: refuse its requests and those queued behind it.

        It may still commit later; a retry with the same idempotency key then gets the stored signal."""
        if write.done():
            return
        log.warning("event=storage_stalled batch=%d waiting=%d", len(taken), len(self._waiting))
        for _, future in (*taken, *self._waiting):
            if not future.done():
                future.set_exception(StorageUnavailable("the database did not answer in time"))
        loop.call_later(self._timeout, self._stalled, loop, write, [])
