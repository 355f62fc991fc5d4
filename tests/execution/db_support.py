"""A migrated database for execution tests, reached through as many batch runners as the test needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from storage import migrate
from storage.batch_runner import BatchRunner, batch_runner_for
from storage.database import create_engine


@asynccontextmanager
async def migrated(database_url: str) -> AsyncIterator[Callable[[], BatchRunner]]:
    """Yields a factory of runners over one migrated database: each runner is a connection of its own, as
    a separate process would have. All are closed when the block ends."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    runners: list[BatchRunner] = []

    def new_runner() -> BatchRunner:
        runners.append(batch_runner_for(engine))
        return runners[-1]

    try:
        yield new_runner
    finally:
        for runner in runners:
            await runner.close()
        await engine.dispose()
