"""SQLAlchemy models. Uniqueness that dedup relies on lives here as constraints, so it holds under races."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, MetaData, String, UniqueConstraint
from sqlalchemy import false
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
    # Cards for this signal have been queued for every recipient (set by the fan-out, not by ingest).
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The approval window has passed and the undecided cards were queued to say so.
    cards_closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("producer_id", "external_id"),
        UniqueConstraint("producer_id", "idempotency_key"),
        UniqueConstraint("producer_id", "signature_digest"),
        # Listing: a producer's signals newest first, optionally by status or instrument.
        Index("ix_signals_producer_id_id", "producer_id", "id"),
        Index("ix_signals_producer_status_id", "producer_id", "status", "id"),
        Index("ix_signals_producer_instrument_id", "producer_id", "instrument", "id"),
        Index("ix_signals_status", "status"),
        Index("ix_signals_fanned_out_created_at", "fanned_out", "created_at"),
        Index("ix_signals_cards_closed_created_at", "cards_closed", "created_at"),
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


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_id: Mapped[str] = mapped_column(String(36))
    trader_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    decision: Mapped[str] = mapped_column(String(8))
    consent_version: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Executing an approval (None for a rejection): pending -> claimed -> placed | refused | failed.
    execution: Mapped[str | None] = mapped_column(String(8))
    # When a pending execution is due, or when a claimed one's lease runs out (its worker presumed dead).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    order_id: Mapped[str | None] = mapped_column(String(64))
    execution_note: Mapped[str | None] = mapped_column(String(300))  # why it was refused or failed
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One decision per (signal, trader), enforced by the database so double presses race safely.
        UniqueConstraint("signal_id", "trader_id"),
        Index("ix_decisions_execution_due_at", "execution", "due_at"),
    )


class AuditHeadRow(Base):
    """The chain's head, one row: appends lock it with an UPDATE, so entries get gapless sequence numbers
    and each links to the true previous hash even with several writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntryRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    """Everything the bot sends, stored before it is sent. `intent` says what to render at send time."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    intent: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    signal_id: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(8))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_outbox_state_chat_id_id", "state", "chat_id", "id"),
        Index("ix_outbox_signal_id_chat_id", "signal_id", "chat_id"),
    )


class TelegramChatRow(Base):
    """Per-chat delivery state: the last message id we know of (to resolve an interrupted send), whether
    the user blocked the bot, and a trader's pause."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)


# --- The paper broker's book (storage/trade_store.py). Each table has an integer `seq` so that lists
# come back in the order rows were written, as the in-memory store answers, even when times tie.


class TradeAccountRow(Base):
    __tablename__ = "trade_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    starting_balance: Mapped[Decimal] = mapped_column(Money())
    # Changed only by increments (balance = balance + pnl) in the same transaction as the close.
    balance: Mapped[Decimal] = mapped_column(Money())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TradeOrderRow(Base):
    __tablename__ = "trade_orders"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(64))
    signal_id: Mapped[str] = mapped_column(String(36))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    volume: Mapped[Decimal] = mapped_column(Money())
    entry: Mapped[Decimal] = mapped_column(Money())
    stop_loss: Mapped[Decimal] = mapped_column(Money())
    take_profit: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))  # why it was cancelled or closed

    __table_args__ = (
        UniqueConstraint("id"),
        # One order per approval and account, however many times placing is retried.
        UniqueConstraint("account_id", "idempotency_key"),
        Index("ix_trade_orders_status_instrument_seq", "status", "instrument", "seq"),
    )


class TradePositionRow(Base):
    __tablename__ = "trade_positions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    volume: Mapped[Decimal] = mapped_column(Money())
    open_price: Mapped[Decimal] = mapped_column(Money())
    stop_loss: Mapped[Decimal] = mapped_column(Money())
    take_profit: Mapped[Decimal] = mapped_column(Money())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_price: Mapped[Decimal | None] = mapped_column(Money())
    close_reason: Mapped[str | None] = mapped_column(String(16))
    pnl: Mapped[Decimal | None] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("id"),
        Index("ix_trade_positions_account_id_seq", "account_id", "seq"),
        Index("ix_trade_positions_instrument_seq", "instrument", "seq"),
    )


class TradeFillRow(Base):
    __tablename__ = "trade_fills"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(64))
    instrument: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(8))
    volume: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    pnl: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("id"),
        Index("ix_trade_fills_account_id_seq", "account_id", "seq"),
        Index("ix_trade_fills_order_id_kind", "order_id", "kind"),
    )


class TradeEquityPointRow(Base):
    __tablename__ = "trade_equity_points"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    balance: Mapped[Decimal] = mapped_column(Money())
    equity: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (Index("ix_trade_equity_points_account_id_seq", "account_id", "seq"),)


# --- Prices, risk and jobs.


class LatestQuoteRow(Base):
    """The last accepted quote of each instrument: what every process prices orders against."""

    __tablename__ = "quotes_latest"

    instrument: Mapped[str] = mapped_column(String(20), primary_key=True)
    bid: Mapped[Decimal] = mapped_column(Money())
    ask: Mapped[Decimal] = mapped_column(Money())
    time: Mapped[datetime] = mapped_column(UTCDateTime())


class PriceBarRow(Base):
    """OHLC bars (bid prices) built from accepted quotes or loaded from CSV, for charts."""

    __tablename__ = "price_bars"

    instrument: Mapped[str] = mapped_column(String(20), primary_key=True)
    timeframe_seconds: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    open: Mapped[Decimal] = mapped_column(Money())
    high: Mapped[Decimal] = mapped_column(Money())
    low: Mapped[Decimal] = mapped_column(Money())
    close: Mapped[Decimal] = mapped_column(Money())


class RiskAccountRow(Base):
    """The drawdown guard's state per account: the equity peak, and whether new orders are blocked."""

    __tablename__ = "risk_accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    peak_equity: Mapped[Decimal] = mapped_column(Money())
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobLeaseRow(Base):
    """Who runs a scheduled job right now: with several instances on one database, only the holder of an
    unexpired lease runs it."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime())


class HeartbeatRow(Base):
    """The last heartbeat of each job that beats, and what it measured (read by /status and the watchdog)."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ForwardRow(Base):
    """A signal to POST to one forward target for one event, until it is delivered or given up."""

    __tablename__ = "forwards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(500))  # the target's url
    event: Mapped[str] = mapped_column(String(16))  # accepted, executed
    signal_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16))  # pending, sending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the next attempt is due, or when a sending claim's lease runs out (its worker presumed dead).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # delivered or given up
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("target", "event", "signal_id"),
        Index("ix_forwards_state_due_at", "state", "due_at"),
    )
