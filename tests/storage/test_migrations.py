"""Models and migrations never drift, and every revision upgrades, downgrades and upgrades again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage import migrate
from storage.database import create_engine
from storage.models import Base
from tests.conftest import PG_HOST


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails with the server's reason when it is absent
    name = f"signaldesk_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_HOST)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_HOST.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_models_match_the_head_migration(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata))
    await engine.dispose()
    assert diff == []


async def test_stairway_up_down_up_for_every_revision(empty_database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    engine = create_engine(empty_database_url)
    for revision in revisions:
        await migrate.upgrade(engine, revision.revision)
        await migrate.downgrade(engine, revision.down_revision or "base")
        await migrate.upgrade(engine, revision.revision)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
