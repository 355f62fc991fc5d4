"""signals and dedup keys

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signal_dedup_keys',
    sa.Column('producer_id', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('time', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('signal_id', sa.String(length=36), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('producer_id', 'instrument', 'time', 'version', name=op.f('pk_signal_dedup_keys'))
    )
    with op.batch_alter_table('signal_dedup_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_dedup_keys_signal_id'), ['signal_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('producer_id', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('price', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('stop_loss', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('take_profit', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('time', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('signature_digest', sa.String(length=64), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('producer_id', 'external_id', name=op.f('uq_signals_producer_id_external_id')),
    sa.UniqueConstraint('producer_id', 'idempotency_key', name=op.f('uq_signals_producer_id_idempotency_key')),
    sa.UniqueConstraint('producer_id', 'signature_digest', name=op.f('uq_signals_producer_id_signature_digest'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index('ix_signals_producer_id_id', ['producer_id', 'id'], unique=False)
        batch_op.create_index('ix_signals_producer_instrument_id', ['producer_id', 'instrument', 'id'], unique=False)
        batch_op.create_index('ix_signals_producer_status_id', ['producer_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_signals_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_status')
        batch_op.drop_index('ix_signals_producer_status_id')
        batch_op.drop_index('ix_signals_producer_instrument_id')
        batch_op.drop_index('ix_signals_producer_id_id')

    op.drop_table('signals')
    with op.batch_alter_table('signal_dedup_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_dedup_keys_signal_id'))

    op.drop_table('signal_dedup_keys')
