"""Running one synchronous batch transaction per call, in one hop from the event loop.

Each awaited statement on an async driver is a round trip through the event loop; under load those
trips queue behind HTTP work and a batch takes several times its real cost. So a batch is written by
plain synchronous SQLAlchemy Core in one go: on SQLite in a dedicated writer thread (aiosqlite is
only a thread too, with one hop per call), on PostgreSQL through `run_sync` on the async connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import is_sqlite, sqlite_pragmas

Result = TypeVar("Result")


class BatchRunner(Protocol):
    def run(self, work: Callable[[Connection], Result]) -> Awaitable[Result]:
        """Run `work` inside one transaction that commits when it returns and rolls back if it raises."""
        ...

    async def close(self) -> None: ...


class SqliteThreadRunner:
    def __init__(self, async_engine: AsyncEngine) -> None:
        url = async_engine.url.set(drivername="sqlite+pysqlite")
        self._engine: Engine = create_engine(url)
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    def run(self, work: Callable[[Connection], Result]) -> asyncio.Future[Result]:
        # A plain function, not a coroutine: the thread has the work before the caller first awaits.
        return asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Connection], Result]) -> Result:
        with self._engine.begin() as conn:
            return work(conn)

    async def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()


class AsyncConnectionRunner:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, work: Callable[[Connection], Result]) -> Result:
        async with self._engine.begin() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        return None


def batch_runner_for(engine: AsyncEngine) -> BatchRunner:
    return SqliteThreadRunner(engine) if is_sqlite(engine.url.render_as_string()) else AsyncConnectionRunner(engine)
