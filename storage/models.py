"""SQLAlchemy models. Uniqueness that dedup relies on lives here as constraints, so it holds under races."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    producer_id: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Money())
    stop_loss: Mapped[Decimal] = mapped_column(Money())
    take_profit: Mapped[Decimal] = mapped_column(Money())
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_digest: Mapped[str] = mapped_column(String(64))
    signature_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("producer_id", "external_id"),
        UniqueConstraint("producer_id", "idempotency_key"),
        UniqueConstraint("producer_id", "signature_digest"),
        # Listing: a producer's signals newest first, optionally by status or instrument.
        Index("ix_signals_producer_id_id", "producer_id", "id"),
        Index("ix_signals_producer_status_id", "producer_id", "status", "id"),
        Index("ix_signals_producer_instrument_id", "producer_id", "instrument", "id"),
        Index("ix_signals_status", "status"),
    )


class SignalDedupKeyRow(Base):
    """Claims on (producer, instrument, time, version) that expire after the dedup window.

    A claim is taken with one atomic upsert that only overwrites an expired claim, so two concurrent
    writers can never both win it."""

    __tablename__ = "signal_dedup_keys"

    producer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(20), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(36), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
