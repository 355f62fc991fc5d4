"""The signal store: race-free dedup through constraints, and group-committed inserts.

On SQLite the inserts are written by a child process (storage/writer_process.py says why), or by a
thread where the event loop cannot watch the child's socket (Windows); on PostgreSQL through
`run_sync` on a pooled connection."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from functools import partial
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select, text, tuple_
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import DuplicateSignal, IdempotencyConflict, StorageUnavailable
from core.forward_policy import ForwardEvent
from core.ports import SignalPage
from core.signals import IngestResult, NewSignal, Side, Signal, SignalDraft, SignalStatus
from storage.batch_runner import AsyncConnectionRunner, SqliteThreadRunner
from storage.database import is_sqlite
from storage.forward_queue import queue_forwards
from storage.group_commit import BatchSink, GroupCommitter, RunnerSink
from storage.models import SignalDedupKeyRow, SignalRow
from storage.signal_rows import (
    CLAIM_COLUMNS,
    DEDUP_KEYS,
    SIGNAL_COLUMNS,
    SIGNALS,
    DriverInsert,
    SignalEncoder,
    signal_from_new,
    signal_from_row,
)
from storage.writer_process import SqliteWriterProcess

Outcome = IngestResult | Exception
_DEDUP_KEY = (SignalDedupKeyRow.producer_id, SignalDedupKeyRow.instrument, SignalDedupKeyRow.time, SignalDedupKeyRow.version)


class SqlSignalStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_batch: int = 256,
        write_timeout_seconds: float = 10.0,
        sqlite_writer_process: bool = sys.platform != "win32",  # Windows' event loop cannot watch its socket
        forward_targets: Sequence[str] = (),  # urls of the forward targets of accepted signals
    ) -> None:
        self._engine = engine
        targets = tuple(forward_targets)
        sink: BatchSink[NewSignal, IngestResult]
        if not is_sqlite(engine.url.render_as_string()):
            sink = RunnerSink(AsyncConnectionRunner(engine), SignalBatchWriter(targets).write)
        elif sqlite_writer_process:
            url = engine.url.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
            sink = SqliteWriterProcess(url, partial(packed_signal_batch_writer, targets), pack_new_signal)
        else:
            sink = RunnerSink(SqliteThreadRunner(engine), SignalBatchWriter(targets).write)
        self._committer: GroupCommitter[NewSignal, IngestResult] = GroupCommitter(
            sink, max_batch=max_batch, timeout_seconds=write_timeout_seconds
        )

    def start(self) -> None:
        self._committer.start()

    async def close(self) -> None:
        await self._committer.close()

    async def add(self, signal: NewSignal) -> IngestResult:
        return await self._committer.submit(signal)

    async def get(self, signal_id: str) -> Signal | None:
        async with self._reading() as conn:
            row = (await conn.execute(select(SignalRow).where(SignalRow.id == signal_id))).one_or_none()
        return signal_from_row(row) if row else None

    async def list(
        self,
        producer_id: str,
        *,
        status: SignalStatus | None,
        instrument: str | None,
        limit: int,
        cursor: str | None,
    ) -> SignalPage:
        query = select(SignalRow).where(SignalRow.producer_id == producer_id)
        if status is not None:
            query = query.where(SignalRow.status == status.value)
        if instrument is not None:
            query = query.where(SignalRow.instrument == instrument)
        if cursor is not None:
            query = query.where(SignalRow.id < cursor)
        query = query.order_by(SignalRow.id.desc()).limit(limit + 1)
        async with self._reading() as conn:
            rows = (await conn.execute(query)).all()
        signals = [signal_from_row(r) for r in rows[:limit]]
        return SignalPage(signals, signals[-1].id if len(rows) > limit else None)

    async def ping(self) -> None:
        async with self._reading() as conn:
            await conn.execute(text("SELECT 1"))

    def _reading(self) -> _ReadConnection:
        return _ReadConnection(self._engine)


class SignalBatchWriter:
    """Stores a batch in the caller's transaction: one outcome per signal, in order.

    Without duplicates a round costs two statements: one upsert claiming every dedup key and one insert
    of every row, whose row counts alone say that nothing conflicted. Conflicts are rare; they take the
    portable SQLAlchemy Core path that finds out what each signal collided with. Accepted signals are
    queued for the forward targets in the same transaction."""

    def __init__(self, forward_targets: tuple[str, ...] = ()) -> None:
        self._sql: _BatchSql | None = None
        self._forward_targets = forward_targets

    def write(self, conn: Connection, batch: Sequence[NewSignal]) -> list[Outcome]:
        if self._sql is None or self._sql.dialect is not conn.dialect:
            self._sql = _BatchSql(conn.dialect)
        outcomes: dict[str, Outcome] = {}
        # Signals that share a key go in separate rounds, so each upsert sees at most one claimant
        # per key and the later claimant sees the earlier one's row.
        for round_ in _rounds(batch):
            _write_round(conn, self._sql, round_, outcomes)
        if self._forward_targets:
            created = [(s.id, s.created_at) for s in batch if isinstance(o := outcomes[s.id], IngestResult) and o.created]
            queue_forwards(conn, ForwardEvent.ACCEPTED, self._forward_targets, created)
        return [outcomes[s.id] for s in batch]


def packed_signal_batch_writer(
    forward_targets: tuple[str, ...] = (),
) -> Callable[[Connection, Sequence[tuple[Any, ...]]], list[Outcome]]:
    """The batch writer of a writer process, for signals packed by `pack_new_signal`."""
    write = SignalBatchWriter(forward_targets).write
    return lambda conn, packed: write(conn, [unpack_new_signal(p) for p in packed])


def pack_new_signal(s: NewSignal) -> tuple[Any, ...]:
    """A NewSignal as a tuple of plain values: it pickles in half the time of the dataclasses."""
    d = s.draft
    return (
        s.id, s.producer_id, s.created_at, s.dedup_expires_at, s.request_digest, s.signature_digest, s.idempotency_key,
        d.instrument, d.side.value, str(d.price), str(d.stop_loss), str(d.take_profit), d.time, d.version,
        d.external_id, d.payload,
    )


def unpack_new_signal(p: tuple[Any, ...]) -> NewSignal:
    (id_, producer_id, created_at, dedup_expires_at, request_digest, signature_digest, idempotency_key,
     instrument, side, price, stop_loss, take_profit, time, version, external_id, payload) = p
    draft = SignalDraft(
        instrument, Side(side), Decimal(price), Decimal(stop_loss), Decimal(take_profit), time, version, external_id, payload
    )
    return NewSignal(id_, producer_id, draft, created_at, dedup_expires_at, request_digest, signature_digest, idempotency_key)


class _BatchSql:
    """The two statements of a round, as driver SQL for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.encoder = SignalEncoder(dialect)
        q = dialect.identifier_preparer
        key = ", ".join(q.format_column(c) for c in DEDUP_KEYS.primary_key.columns)
        take_over = ", ".join(f"{q.format_column(DEDUP_KEYS.c[c])} = excluded.{q.format_column(DEDUP_KEYS.c[c])}"
                              for c in ("signal_id", "claimed_at", "expires_at"))
        expires, claimed = q.format_column(DEDUP_KEYS.c.expires_at), q.format_column(DEDUP_KEYS.c.claimed_at)
        self.claim = DriverInsert(
            DEDUP_KEYS, CLAIM_COLUMNS, dialect,
            # Only an expired claim may be taken over; a live one means this signal is a duplicate.
            f"ON CONFLICT ({key}) DO UPDATE SET {take_over} WHERE {q.format_table(DEDUP_KEYS)}.{expires} <= excluded.{claimed}",
        )
        self.insert = DriverInsert(SIGNALS, SIGNAL_COLUMNS, dialect, "ON CONFLICT DO NOTHING")


class _ReadConnection:
    """A read connection whose database errors surface as StorageUnavailable."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> AsyncConnection:
        try:
            self._conn = await asyncio.wait_for(self._engine.connect(), timeout=10)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageUnavailable("the database is unavailable") from exc
        return self._conn

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        await self._conn.close()
        if isinstance(exc, (SQLAlchemyError, OSError, TimeoutError)):
            raise StorageUnavailable("the database is unavailable") from exc


def _keys(s: NewSignal) -> list[tuple[object, ...]]:
    d = s.draft
    keys: list[tuple[object, ...]] = [("dedup", s.producer_id, d.instrument, d.time, d.version)]
    if d.external_id:
        keys.append(("external", s.producer_id, d.external_id))
    if s.idempotency_key:
        keys.append(("idempotency", s.producer_id, s.idempotency_key))
    if s.signature_digest:
        keys.append(("signature", s.producer_id, s.signature_digest))
    return keys


def _rounds(batch: Sequence[NewSignal]) -> list[list[NewSignal]]:
    rounds: list[tuple[list[NewSignal], set[tuple[object, ...]]]] = []
    for signal in batch:
        keys = _keys(signal)
        for members, taken in rounds:
            if taken.isdisjoint(keys):
                members.append(signal)
                taken.update(keys)
                break
        else:
            rounds.append(([signal], set(keys)))
    return [members for members, _ in rounds]


def _write_round(conn: Connection, sql: _BatchSql, signals: list[NewSignal], outcomes: dict[str, Outcome]) -> None:
    # An idempotent retry needs no look-up of its own: it collides with its original's dedup claim or
    # unique key below, and the conflict classification answers it with the original.
    rows = [sql.encoder.rows(s) for s in signals]
    if sql.claim.execute(conn, [claim for _, claim in rows]) == len(signals):
        winners, winner_rows = signals, [row for row, _ in rows]
    else:
        claimed = _present(conn, DEDUP_KEYS.c.signal_id, [s.id for s in signals])
        _refuse_window_duplicates(conn, [s for s in signals if s.id not in claimed], outcomes)
        picked = [(s, row) for s, (row, _) in zip(signals, rows, strict=True) if s.id in claimed]
        winners, winner_rows = [s for s, _ in picked], [row for _, row in picked]
    if not winners:
        return
    if sql.insert.execute(conn, winner_rows) == len(winners):
        inserted = {s.id for s in winners}
    else:
        inserted = _present(conn, SIGNALS.c.id, [s.id for s in winners])
    for s in winners:
        if s.id in inserted:
            outcomes[s.id] = IngestResult(signal_from_new(s), created=True)
    conflicted = [s for s in winners if s.id not in inserted]
    if conflicted:
        # Their claims must not outlive them: the window belongs to the signal already stored.
        conn.execute(delete(SignalDedupKeyRow).where(SignalDedupKeyRow.signal_id.in_([s.id for s in conflicted])))
        for s in conflicted:
            outcome = _classify_conflict(conn, s)
            if outcome is None:
                raise RuntimeError(f"signal {s.id} conflicted on no known key")
            outcomes[s.id] = outcome


def _present(conn: Connection, column: object, signal_ids: list[str]) -> set[str]:
    """Which of these (fresh, unique) signal ids this round managed to write into `column`'s table."""
    return set(conn.execute(select(column).where(column.in_(signal_ids))).scalars())  # type: ignore[attr-defined]


def _idempotent_answer(row: SignalRow, s: NewSignal) -> Outcome:
    if row.request_digest == s.request_digest:
        return IngestResult(signal_from_row(row), created=False)
    return IdempotencyConflict(row.id)


def _refuse_window_duplicates(conn: Connection, losers: list[NewSignal], outcomes: dict[str, Outcome]) -> None:
    if not losers:
        return
    by_key = {(s.producer_id, s.draft.instrument, s.draft.time, s.draft.version): s for s in losers}
    rows = (conn.execute(select(*_DEDUP_KEY, SignalDedupKeyRow.signal_id).where(tuple_(*_DEDUP_KEY).in_(list(by_key))))).all()
    existing = {tuple(r[:4]): r.signal_id for r in rows}
    for key, s in by_key.items():
        # A more specific cause (same external_id, idempotent retry, replay) explains the refusal better.
        outcomes[s.id] = _classify_conflict(conn, s) or DuplicateSignal(
            "a signal with the same instrument, time and version was accepted within the dedup window",
            existing.get(key, "unknown"),
        )


def _classify_conflict(conn: Connection, s: NewSignal) -> Outcome | None:
    clauses = []
    if s.idempotency_key:
        clauses.append(SignalRow.idempotency_key == s.idempotency_key)
    if s.draft.external_id:
        clauses.append(SignalRow.external_id == s.draft.external_id)
    if s.signature_digest:
        clauses.append(SignalRow.signature_digest == s.signature_digest)
    if not clauses:
        return None
    rows = (conn.execute(select(SignalRow).where(SignalRow.producer_id == s.producer_id, or_(*clauses)))).all()
    for row in rows:
        if s.idempotency_key and row.idempotency_key == s.idempotency_key:
            return _idempotent_answer(row, s)
    for row in rows:
        if s.draft.external_id and row.external_id == s.draft.external_id:
            return DuplicateSignal(f"external_id {s.draft.external_id!r} was already used by this producer", row.id)
    for row in rows:
        if s.signature_digest and row.signature_digest == s.signature_digest:
            return DuplicateSignal("this exact signed request was already accepted (replay)", row.id)
    return None
