"""outbound forwarding queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('forwards',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('signal_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('queued_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forwards')),
    sa.UniqueConstraint('target', 'event', 'signal_id', name=op.f('uq_forwards_target_event_signal_id'))
    )
    with op.batch_alter_table('forwards', schema=None) as batch_op:
        batch_op.create_index('ix_forwards_state_due_at', ['state', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('forwards', schema=None) as batch_op:
        batch_op.drop_index('ix_forwards_state_due_at')

    op.drop_table('forwards')
