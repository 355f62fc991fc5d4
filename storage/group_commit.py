"""Group commit: the requests waiting when a write starts share its one transaction, and each is
answered only after that commit. Durability per request, at the cost of one fsync per batch.

A write starts at the end of the event loop's current step, so every request parsed in that step
joins it, and when a write is answered the next one takes everything that arrived meanwhile. A sink
that writes in order may have a second write queued behind the one in progress."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.errors import StorageUnavailable
from storage.batch_runner import BatchRunner

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Outcomes = Sequence["Outcome | Exception"]  # one result or domain error per item, in order
_Pending = tuple[Item, "asyncio.Future[Outcome]"]


class BatchSink(Protocol[Item, Outcome]):
    depth: int  # how many writes may be in flight; they are written one after the other, in order

    def write(self, items: Sequence[Item]) -> Awaitable[Outcomes[Outcome]]:
        """Store `items` in one transaction; the outcomes arrive after it committed."""
        ...

    def start(self) -> None:
        """Get ready to write (called on the running loop)."""
        ...

    async def close(self) -> None: ...


class RunnerSink(Generic[Item, Outcome]):
    """Writes each batch with `write_batch` inside one transaction of a BatchRunner."""

    depth = 1

    def __init__(self, runner: BatchRunner, write_batch: Callable[[Connection, Sequence[Item]], Outcomes[Outcome]]) -> None:
        self._runner = runner
        self._write_batch = write_batch

    def start(self) -> None:
        return None

    def write(self, items: Sequence[Item]) -> Awaitable[Outcomes[Outcome]]:
        return self._runner.run(lambda conn: self._write_batch(conn, items))

    async def close(self) -> None:
        await self._runner.close()


class GroupCommitter(Generic[Item, Outcome]):
    def __init__(self, sink: BatchSink[Item, Outcome], *, max_batch: int = 256, timeout_seconds: float = 10.0) -> None:
        self._sink = sink
        self._max_batch = max_batch
        self._timeout = timeout_seconds
        self._waiting: deque[_Pending[Item, Outcome]] = deque()
        self._writes: set[asyncio.Future[Outcomes[Outcome]]] = set()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._stopped = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._sink.start()

    async def close(self) -> None:
        """Finish what was submitted, then stop."""
        self._closing = True
        while self._writes or self._waiting:
            self._launch()
            if self._writes and not (await asyncio.wait(set(self._writes), timeout=self._timeout))[0]:
                break  # stuck: closing the sink below refuses them
            await asyncio.sleep(0)  # let their answers be delivered
        self._stopped = True
        await self._sink.close()
        for _, future in self._waiting:
            if not future.done():
                future.set_exception(StorageUnavailable("the service is shutting down"))
        self._waiting.clear()

    def submit(self, item: Item) -> asyncio.Future[Outcome]:
        """The outcome of `item`, once its batch is committed (or refused)."""
        loop = self._loop
        if self._closing or loop is None:
            raise StorageUnavailable("the service is shutting down")
        # A client that hangs up cancels only its own future: the write it shares goes on, the row is
        # stored, and a retry with the same idempotency key gets it back.
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._writes) < self._sink.depth and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._launch)
        return future

    def _launch(self) -> None:
        self._scheduled = False
        if len(self._writes) >= self._sink.depth or not self._waiting or self._stopped:
            return
        loop = self._loop
        assert loop is not None
        waiting = self._waiting
        taken = [waiting.popleft() for _ in range(min(len(waiting), self._max_batch))]
        try:
            write = asyncio.ensure_future(self._sink.write([item for item, _ in taken]), loop=loop)
        except Exception as exc:  # noqa: BLE001 - refused like a failed write
            write = loop.create_future()
            write.set_exception(exc)
        self._writes.add(write)
        watchdog = loop.call_later(self._timeout, self._stalled, write, taken)
        write.add_done_callback(lambda _: self._written(write, taken, watchdog))

    def _written(self, write: asyncio.Future[Outcomes[Outcome]], taken: list[_Pending[Item, Outcome]], watchdog: asyncio.TimerHandle) -> None:
        watchdog.cancel()
        self._writes.discard(write)
        if write.cancelled():
            outcomes: Outcomes[Outcome] = [StorageUnavailable("the write was cancelled; nothing was stored")] * len(taken)
        elif (error := write.exception()) is None:
            outcomes = write.result()
        elif isinstance(error, (SQLAlchemyError, OSError)):
            log.warning("event=storage_unavailable batch=%d error=%s detail=%s", len(taken), type(error).__name__, str(error)[:200])
            if getattr(error, "outcome_unknown", False):
                refusal = StorageUnavailable("the writer stopped while storing the signal; a retry with the same X-Idempotency-Key tells whether it was stored")
            else:
                refusal = StorageUnavailable("the database is unavailable; nothing was stored")
            outcomes = [refusal] * len(taken)
        else:
            # A bug must not stop ingest; the transaction was rolled back, so refuse the batch cleanly.
            log.error("event=batch_write_failed batch=%d", len(taken), exc_info=error)
            outcomes = [StorageUnavailable("the signal could not be stored; nothing was written")] * len(taken)
        self._launch()  # everything that arrived meanwhile
        for (_, future), outcome in zip(taken, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _stalled(self, write: asyncio.Future[Outcomes[Outcome]], taken: list[_Pending[Item, Outcome]]) -> None:
        """The write has not finished in time: refuse its requests and those queued behind it.

        It may still commit later; a retry with the same idempotency key then gets the stored signal."""
        if write.done():
            return
        log.warning("event=storage_stalled batch=%d waiting=%d", len(taken), len(self._waiting))
        for _, future in (*taken, *self._waiting):
            if not future.done():
                future.set_exception(StorageUnavailable("the database did not answer in time"))
        assert self._loop is not None
        self._loop.call_later(self._timeout, self._stalled, write, [])
