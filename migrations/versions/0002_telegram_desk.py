"""telegram desk

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    audit_head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer), sa.column('hash', sa.String))
    op.bulk_insert(audit_head, [{'id': 1, 'seq': 0, 'hash': '0' * 64}])  # the genesis of the chain
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('signal_id', sa.String(length=36), nullable=False),
    sa.Column('trader_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('consent_version', sa.String(length=32), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('signal_id', 'trader_id', name=op.f('uq_decisions_signal_id_trader_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('intent', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('signal_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_signal_id_chat_id', ['signal_id', 'chat_id'], unique=False)
        batch_op.create_index('ix_outbox_state_chat_id_id', ['state', 'chat_id', 'id'], unique=False)

    op.create_table('telegram_chats',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('last_message_id', sa.BigInteger(), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_telegram_chats'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanned_out', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('cards_closed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_signals_fanned_out_created_at', ['fanned_out', 'created_at'], unique=False)
        batch_op.create_index('ix_signals_cards_closed_created_at', ['cards_closed', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_cards_closed_created_at')
        batch_op.drop_index('ix_signals_fanned_out_created_at')
        batch_op.drop_column('cards_closed')
        batch_op.drop_column('fanned_out')

    op.drop_table('telegram_chats')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_chat_id_id')
        batch_op.drop_index('ix_outbox_signal_id_chat_id')

    op.drop_table('outbox')
    op.drop_table('decisions')
    op.drop_table('audit_log')
    op.drop_table('audit_head')
