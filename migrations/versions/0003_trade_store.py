"""trade store

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trade_accounts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('starting_balance', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('balance', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trade_accounts'))
    )
    op.create_table('trade_equity_points',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('time', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('balance', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('equity', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_trade_equity_points'))
    )
    with op.batch_alter_table('trade_equity_points', schema=None) as batch_op:
        batch_op.create_index('ix_trade_equity_points_account_id_seq', ['account_id', 'seq'], unique=False)

    op.create_table('trade_fills',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('volume', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('price', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('time', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pnl', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_trade_fills')),
    sa.UniqueConstraint('id', name=op.f('uq_trade_fills_id'))
    )
    with op.batch_alter_table('trade_fills', schema=None) as batch_op:
        batch_op.create_index('ix_trade_fills_account_id_seq', ['account_id', 'seq'], unique=False)
        batch_op.create_index('ix_trade_fills_order_id_kind', ['order_id', 'kind'], unique=False)

    op.create_table('trade_orders',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('signal_id', sa.String(length=36), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('volume', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('entry', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('stop_loss', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('take_profit', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_trade_orders')),
    sa.UniqueConstraint('account_id', 'idempotency_key', name=op.f('uq_trade_orders_account_id_idempotency_key')),
    sa.UniqueConstraint('id', name=op.f('uq_trade_orders_id'))
    )
    with op.batch_alter_table('trade_orders', schema=None) as batch_op:
        batch_op.create_index('ix_trade_orders_status_instrument_seq', ['status', 'instrument', 'seq'], unique=False)

    op.create_table('trade_positions',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('volume', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('open_price', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('stop_loss', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('take_profit', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_price', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=True),
    sa.Column('close_reason', sa.String(length=16), nullable=True),
    sa.Column('pnl', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_trade_positions')),
    sa.UniqueConstraint('id', name=op.f('uq_trade_positions_id'))
    )
    with op.batch_alter_table('trade_positions', schema=None) as batch_op:
        batch_op.create_index('ix_trade_positions_account_id_seq', ['account_id', 'seq'], unique=False)
        batch_op.create_index('ix_trade_positions_instrument_seq', ['instrument', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trade_positions', schema=None) as batch_op:
        batch_op.drop_index('ix_trade_positions_instrument_seq')
        batch_op.drop_index('ix_trade_positions_account_id_seq')

    op.drop_table('trade_positions')
    with op.batch_alter_table('trade_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_trade_orders_status_instrument_seq')

    op.drop_table('trade_orders')
    with op.batch_alter_table('trade_fills', schema=None) as batch_op:
        batch_op.drop_index('ix_trade_fills_order_id_kind')
        batch_op.drop_index('ix_trade_fills_account_id_seq')

    op.drop_table('trade_fills')
    with op.batch_alter_table('trade_equity_points', schema=None) as batch_op:
        batch_op.drop_index('ix_trade_equity_points_account_id_seq')

    op.drop_table('trade_equity_points')
    op.drop_table('trade_accounts')
