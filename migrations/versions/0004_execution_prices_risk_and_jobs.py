"""execution, prices, risk and jobs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('heartbeats',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('instance', sa.String(length=64), nullable=False),
    sa.Column('beat_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeats'))
    )
    op.create_table('job_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('until', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )
    op.create_table('price_bars',
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('timeframe_seconds', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('open', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('high', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('low', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('close', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('instrument', 'timeframe_seconds', 'start', name=op.f('pk_price_bars'))
    )
    op.create_table('quotes_latest',
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('bid', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('ask', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('time', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instrument', name=op.f('pk_quotes_latest'))
    )
    op.create_table('risk_accounts',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('peak_equity', sa.Numeric(precision=24, scale=10).with_variant(storage.types.DecimalText(length=40), 'sqlite'), nullable=False),
    sa.Column('blocked', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('blocked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_risk_accounts'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('execution', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('order_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('execution_note', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('executed_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_decisions_execution_due_at', ['execution', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_execution_due_at')
        batch_op.drop_column('executed_at')
        batch_op.drop_column('execution_note')
        batch_op.drop_column('order_id')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('due_at')
        batch_op.drop_column('execution')

    op.drop_table('risk_accounts')
    op.drop_table('quotes_latest')
    op.drop_table('price_bars')
    op.drop_table('job_leases')
    op.drop_table('heartbeats')
