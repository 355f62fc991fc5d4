"""The ingest write path: driver-level rows stored exactly as SQLAlchemy would store them, and the
group committer's batching and refusals."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import fields
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import OperationalError

from core.errors import StorageUnavailable
from core.signals import NewSignal, Side, SignalDraft, SignalStatus
from storage import migrate
from storage.batch_runner import batch_runner_for
from storage.database import create_engine
from storage.group_commit import GroupCommitter
from storage.signal_rows import CLAIM_COLUMNS, DEDUP_KEYS, SIGNAL_COLUMNS, SIGNALS, SignalEncoder, signal_from_new
from storage.signal_store import SqlSignalStore, pack_new_signal, unpack_new_signal

NOW = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)


def new_signal(n: int, **draft: Any) -> NewSignal:
    fields: dict[str, Any] = {
        "instrument": "XAUUSD", "side": Side.BUY, "price": Decimal("2400.50"), "stop_loss": Decimal("2390"),
        "take_profit": Decimal("2420.125"), "time": NOW - timedelta(seconds=30), "version": n,
        "external_id": f"ext-{n}", "payload": {"rsi": 71.2, "note": "ünïcode"},
    }
    fields.update(draft)
    return NewSignal(
        id=f"01a2f3c4-0000-7000-8000-{n:012d}",
        producer_id="alpha",
        draft=SignalDraft(**fields),
        created_at=NOW,
        dedup_expires_at=NOW + timedelta(seconds=300),
        request_digest=hashlib.sha256(str(n).encode()).hexdigest(),
        signature_digest=hashlib.sha256(f"sig{n}".encode()).hexdigest(),
        idempotency_key=f"key-{n}",
    )


def sqlalchemy_rows(new: NewSignal) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the rows are, in SQLAlchemy's terms."""
    d = new.draft
    row = {
        "id": new.id, "producer_id": new.producer_id, "instrument": d.instrument, "side": d.side.value,
        "price": d.price, "stop_loss": d.stop_loss, "take_profit": d.take_profit, "time": d.time, "version": d.version,
        "external_id": d.external_id, "payload": d.payload, "status": SignalStatus.NEW.value,
        "idempotency_key": new.idempotency_key, "request_digest": new.request_digest,
        "signature_digest": new.signature_digest, "created_at": new.created_at, "updated_at": new.created_at,
    }
    claim = {"producer_id": new.producer_id, "instrument": new.draft.instrument, "time": new.draft.time,
             "version": new.draft.version, "signal_id": new.id, "claimed_at": new.created_at,
             "expires_at": new.dedup_expires_at}
    return row, claim


@pytest.mark.parametrize("dialect", [pysqlite.dialect(), asyncpg.dialect()], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("payload", [None, {"rsi": 71.2, "nested": [1, "ü"]}])
def test_encoder_writes_what_the_column_types_would(dialect: Dialect, payload: Any) -> None:
    new = new_signal(7, payload=payload, time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))))
    row, claim = SignalEncoder(dialect).rows(new)
    expected_row, expected_claim = sqlalchemy_rows(new)
    for table, columns, values, expected in ((SIGNALS, SIGNAL_COLUMNS, row, expected_row), (DEDUP_KEYS, CLAIM_COLUMNS, claim, expected_claim)):
        for column, value in zip(columns, values, strict=True):
            process = table.c[column].type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
            assert value == process(expected[column]), column


def test_encoder_refuses_naive_datetimes_like_the_column_type() -> None:
    with pytest.raises(ValueError, match="naive"):
        SignalEncoder(pysqlite.dialect()).rows(new_signal(1, time=datetime(2026, 1, 2)))


@pytest.fixture
async def engine(database_url: str) -> Any:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(engine: Any) -> Any:
    store = SqlSignalStore(engine)
    store.start()
    yield store
    await store.close()


@pytest.fixture
async def runner(engine: Any) -> Any:
    runner = batch_runner_for(engine)
    yield runner
    await runner.close()


async def test_fast_path_rows_read_back_like_rows_sqlalchemy_wrote(store: SqlSignalStore, runner: Any) -> None:
    fast = new_signal(1)
    assert (await store.add(fast)).created
    reference = new_signal(2)
    row, claim = sqlalchemy_rows(reference)

    def write_reference(conn: Connection) -> None:
        conn.execute(insert(SIGNALS), [row])
        conn.execute(insert(DEDUP_KEYS), [claim])

    await runner.run(write_reference)

    def read(conn: Connection) -> list[Any]:
        return [conn.execute(select(table).where(key == new.id)).one() for new in (fast, reference)
                for table, key in ((SIGNALS, SIGNALS.c.id), (DEDUP_KEYS, DEDUP_KEYS.c.signal_id))]

    fast_signal, fast_claim, ref_signal, ref_claim = await runner.run(read)
    skip = {"id", "external_id", "version", "idempotency_key", "request_digest", "signature_digest", "signal_id"}
    for a, b in ((fast_signal, ref_signal), (fast_claim, ref_claim)):
        mine, theirs = a._asdict(), b._asdict()
        assert {k: v for k, v in mine.items() if k not in skip} == {k: v for k, v in theirs.items() if k not in skip}
    assert await store.get(fast.id) == signal_from_new(fast)


async def test_a_batch_with_duplicates_answers_each_signal(store: SqlSignalStore) -> None:
    await answers_each_signal_of_a_batch_with_duplicates(store)


async def test_the_sqlite_writer_thread_where_no_writer_process_can_run(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'thread.db'}")
    await migrate.upgrade(engine)
    store = SqlSignalStore(engine, sqlite_writer_process=False)
    store.start()
    try:
        await answers_each_signal_of_a_batch_with_duplicates(store)
    finally:
        await store.close()
        await engine.dispose()


async def answers_each_signal_of_a_batch_with_duplicates(store: SqlSignalStore) -> None:
    first, same_external, same_window, fresh = (
        new_signal(1), new_signal(2, external_id="ext-1"), new_signal(3, version=1, external_id="other"), new_signal(4)
    )
    results = await asyncio.gather(*(store.add(s) for s in (first, same_external, same_window, fresh)), return_exceptions=True)
    assert results[0].created and results[3].created  # type: ignore[union-attr]
    assert "external_id" in str(results[1]) and first.id in str(results[1])
    assert "dedup window" in str(results[2]) and first.id in str(results[2])


class FakeSink:
    """Records each batch; can fail, or hold writes until released."""

    depth = 1

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail: BaseException | None = None
        self.released = asyncio.Event()
        self.released.set()
        self.closed = False

    async def write(self, items: Sequence[int]) -> list[Any]:
        if self.fail is not None:
            raise self.fail
        await self.released.wait()
        self.batches.append(list(items))
        return [ValueError(i) if i < 0 else i * 10 for i in items]

    def start(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


def committer(sink: FakeSink, **kwargs: Any) -> GroupCommitter[int, int]:
    committer: GroupCommitter[int, int] = GroupCommitter(sink, **kwargs)
    committer.start()
    return committer


async def test_requests_submitted_together_share_one_write_and_get_their_own_outcome() -> None:
    sink = FakeSink()
    group = committer(sink)
    results = await asyncio.gather(*(group.submit(i) for i in (1, 2, -3, 4)), return_exceptions=True)
    assert results[0] == 10 and results[1] == 20 and isinstance(results[2], ValueError) and results[3] == 40
    assert sink.batches == [[1, 2, -3, 4]]
    await group.close()


async def held_write(first: int, **kwargs: Any) -> tuple[FakeSink, GroupCommitter[int, int], asyncio.Future[int]]:
    """A committer whose write for `first` has started and waits until the sink is released."""
    sink = FakeSink()
    sink.released.clear()
    group = committer(sink, **kwargs)
    pending = group.submit(first)
    await asyncio.sleep(0)
    return sink, group, pending


async def test_requests_arriving_during_a_write_share_the_next_one() -> None:
    sink, group, first = await held_write(1, max_batch=3)
    later = [group.submit(i) for i in range(2, 7)]
    sink.released.set()
    assert await asyncio.gather(first, *later) == [10, 20, 30, 40, 50, 60]
    assert sink.batches == [[1], [2, 3, 4], [5, 6]]
    await group.close()


@pytest.mark.parametrize("error", [OperationalError("x", {}, Exception("down")), OSError("pipe"), RuntimeError("bug")])
async def test_a_failed_write_refuses_its_requests_with_storage_unavailable(error: BaseException) -> None:
    sink = FakeSink()
    sink.fail = error
    group = committer(sink)
    results = await asyncio.gather(*(group.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, StorageUnavailable) for r in results)
    sink.fail = None
    assert await group.submit(5) == 50  # and it recovers
    await group.close()


async def test_a_stalled_write_refuses_its_requests_and_those_queued_behind_it() -> None:
    sink, group, first = await held_write(0, timeout_seconds=0.01)
    results = await asyncio.gather(first, *(group.submit(i) for i in (1, 2)), return_exceptions=True)
    assert all(isinstance(r, StorageUnavailable) and "in time" in str(r) for r in results)
    sink.released.set()  # the write finally goes through; its answers come too late and are dropped
    await group.close()
    assert sink.batches == [[0], [1, 2]] and sink.closed


async def test_close_finishes_what_was_submitted_then_refuses() -> None:
    sink = FakeSink()
    group = committer(sink)
    pending = group.submit(1)
    await group.close()
    assert pending.done() and pending.result() == 10 and sink.closed
    with pytest.raises(StorageUnavailable):
        group.submit(2)


async def test_ingest_recovers_when_the_sqlite_writer_process_dies(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}")
    await migrate.upgrade(engine)
    store = SqlSignalStore(engine)
    store.start()
    try:
        assert (await store.add(new_signal(1))).created
        writer = store._committer._sink  # type: ignore[attr-defined]
        writer._process.kill()
        await asyncio.to_thread(writer._process.join)
        outcomes = []
        for n in range(2, 6):  # a write may still reach the dead child and be refused; then a new one starts
            try:
                outcomes.append((await store.add(new_signal(n))).created)
            except StorageUnavailable as refusal:
                outcomes.append(str(refusal))
            if outcomes[-1] is True:
                break
        assert outcomes[-1] is True, outcomes
        assert await store.get(new_signal(1).id) == signal_from_new(new_signal(1))
    finally:
        await store.close()
        await engine.dispose()
    assert store._committer._sink._process is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("changes", [{}, {"external_id": None, "payload": None, "side": Side.SELL, "price": Decimal("1E+3")}])
def test_a_packed_signal_unpacks_to_the_same_signal(changes: dict[str, Any]) -> None:
    signal = new_signal(3, **changes)
    again = unpack_new_signal(pack_new_signal(signal))
    assert again == signal
    # Every field of both dataclasses travels: a field added later must be packed too.
    assert len(pack_new_signal(signal)) == len(fields(NewSignal)) - 1 + len(fields(SignalDraft))
