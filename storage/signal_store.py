"""The signal store: race-free dedup through constraints, and group-committed inserts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, text, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import DuplicateSignal, IdempotencyConflict, StorageUnavailable
from core.ports import SignalPage
from core.signals import IngestResult, NewSignal, Signal, SignalStatus
from storage.batch_runner import batch_runner_for
from storage.group_commit import GroupCommitter
from storage.models import SignalDedupKeyRow, SignalRow
from storage.signal_rows import row_values, signal_from_new, signal_from_row
from storage.upsert import insert_for

Outcome = IngestResult | Exception
_DEDUP_KEY = (SignalDedupKeyRow.producer_id, SignalDedupKeyRow.instrument, SignalDedupKeyRow.time, SignalDedupKeyRow.version)


class SqlSignalStore:
    def __init__(self, engine: AsyncEngine, *, max_batch: int = 256, write_timeout_seconds: float = 10.0) -> None:
        self._engine = engine
        self._runner = batch_runner_for(engine)
        self._committer: GroupCommitter[NewSignal, IngestResult] = GroupCommitter(
            self._write_batch, max_batch=max_batch, timeout_seconds=write_timeout_seconds
        )

    def start(self) -> None:
        self._committer.start()

    async def close(self) -> None:
        await self._committer.close()
        await self._runner.close()

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

    async def _write_batch(self, batch: Sequence[NewSignal]) -> list[Outcome]:
        return await self._runner.run(lambda conn: write_batch(conn, batch))


def write_batch(conn: Connection, batch: Sequence[NewSignal]) -> list[Outcome]:
    """Store a batch in the caller's transaction: one outcome per signal, in order."""
    outcomes: dict[str, Outcome] = {}
    # Signals that share a key go in separate rounds, so each upsert sees at most one claimant
    # per key and the later claimant sees the earlier one's row.
    for round_ in _rounds(batch):
        _write_round(conn, round_, outcomes)
    return [outcomes[s.id] for s in batch]


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


def _write_round(conn: Connection, signals: list[NewSignal], outcomes: dict[str, Outcome]) -> None:
    # An idempotent retry needs no look-up of its own: it collides with its original's dedup claim or
    # unique key below, and the conflict classification answers it with the original.
    claimed = _claim_dedup_keys(conn, signals)
    losers = [s for s in signals if s.id not in claimed]
    if losers:
        _refuse_window_duplicates(conn, losers, outcomes)
    winners = [s for s in signals if s.id in claimed]
    if not winners:
        return
    table = SignalRow.__table__
    stmt = insert_for(conn, table).on_conflict_do_nothing().returning(table.c.id)
    inserted = set((conn.execute(stmt, [row_values(s) for s in winners])).scalars())
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


def _idempotent_answer(row: SignalRow, s: NewSignal) -> Outcome:
    if row.request_digest == s.request_digest:
        return IngestResult(signal_from_row(row), created=False)
    return IdempotencyConflict(row.id)


def _claim_dedup_keys(conn: Connection, signals: list[NewSignal]) -> set[str]:
    table = SignalDedupKeyRow.__table__
    stmt = insert_for(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.key for c in _DEDUP_KEY],
        set_={"signal_id": stmt.excluded.signal_id, "claimed_at": stmt.excluded.claimed_at, "expires_at": stmt.excluded.expires_at},
        # Only an expired claim may be taken over; a live one means this signal is a duplicate.
        where=table.c.expires_at <= stmt.excluded.claimed_at,
    ).returning(table.c.signal_id)
    rows = [
        {
            "producer_id": s.producer_id,
            "instrument": s.draft.instrument,
            "time": s.draft.time,
            "version": s.draft.version,
            "signal_id": s.id,
            "claimed_at": s.created_at,
            "expires_at": s.dedup_expires_at,
        }
        for s in signals
    ]
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs from one cached compilation.
    return set((conn.execute(stmt, rows)).scalars())


def _refuse_window_duplicates(conn: Connection, losers: list[NewSignal], outcomes: dict[str, Outcome]) -> None:
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
