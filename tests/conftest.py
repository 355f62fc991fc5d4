"""Fixtures that build the desk from configuration exactly as `signaldesk serve` does, on SQLite and
on a throw-away PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Desk, open_desk, serve_http
from bot.config import Settings, load_settings
from tests.reliability.figures import print_figures
from tests.support import (
    OTHER_PRODUCER_ID,
    OTHER_SECRET,
    PRODUCER_ID,
    ROTATED_SECRET,
    SECRET,
    FakeClock,
    SignedHeaders,
    encode,
    rfc3339,
)

PG_HOST = os.environ.get("SIGNALDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def run_in_fresh_loop(coro: Any) -> Any:
    """Run `coro` to completion from sync fixture code, even while a test's event loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()



@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this test session and dropped after it."""
    import asyncpg

    name = f"signaldesk_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_HOST, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        run_in_fresh_loop(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL at {PG_HOST} is not reachable ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI requires the PostgreSQL tests to run")
        pytest.skip(f"{message}; set SIGNALDESK_TEST_PG or start PostgreSQL to run these tests")
    base = PG_HOST.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    run_in_fresh_loop(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage and API test runs on both databases."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'signaldesk.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    run_in_fresh_loop(empty_tables(url))


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """The PostgreSQL database alone (for tests that race processes on it), emptied after the test."""
    yield postgres_url
    run_in_fresh_loop(empty_tables(postgres_url))


async def empty_tables(url: str) -> None:
    from sqlalchemy import text

    from core.audit import GENESIS_HASH
    from storage.database import create_engine
    from storage.models import Base

    engine = create_engine(url)
    async with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "audit_head")
        await conn.execute(text(f"TRUNCATE {names}"))
        # The chain's head is seeded by the migration; reset it to the genesis rather than delete it.
        await conn.execute(text(f"UPDATE audit_head SET seq = 0, hash = '{GENESIS_HASH}'"))
    await engine.dispose()


@pytest.fixture
async def migrated_engine(database_url: str) -> AsyncIterator[Any]:
    """An engine on the test database with the schema at head; disposed after the test."""
    from storage import migrate
    from storage.database import create_engine

    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database": {"url": database_url},
        "producers": [
            {"id": PRODUCER_ID, "secrets": [SECRET, ROTATED_SECRET]},
            {"id": OTHER_PRODUCER_ID, "secrets": [OTHER_SECRET]},
        ],
    }
    base.update(overrides)
    return load_settings(None, **base)


@dataclass
class Api:
    """A running desk reached over real HTTP, with an independent signer."""

    base_url: str
    session: aiohttp.ClientSession
    clock: FakeClock
    desk: Desk

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        signer: SignedHeaders | None = None,
        headers: dict[str, str] | None = None,
        timestamp: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else (encode(body) if body is not None else b"")
        signed = (signer or SignedHeaders()).build(method, path, data, timestamp or rfc3339(self.clock.now()))
        signed.update(headers or {})
        async with self.session.request(method, self.base_url + path, data=data, headers=signed) as response:
            payload = await response.json(content_type=None) if await response.read() else None
            return response.status, dict(response.headers), payload

    async def post_signal(self, body: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
        return await self.request("POST", "/api/v1/signals", body, **kwargs)


@pytest.fixture
async def api_factory(clock: FakeClock, database_url: str) -> AsyncIterator[Any]:
    """Start a desk for given settings; all are stopped at teardown, before `database_url` empties the database."""
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(settings: Settings) -> Api:
            desk = await stack.enter_async_context(open_desk(settings, clock=clock))
            url = await stack.enter_async_context(serve_http(desk.http_app, "127.0.0.1", 0))
            return Api(url, session, clock, desk)

        yield start


@pytest.fixture
async def api(api_factory: Any, database_url: str) -> Api:
    return await api_factory(make_settings(database_url))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    print_figures(terminalreporter)  # the reliability suite's figures, when any of its tests ran
