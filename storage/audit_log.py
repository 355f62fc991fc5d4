"""Appending to and reading the hash-chained audit log (core.audit defines the chain)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from core.audit import AuditEntry, entry_hash
from storage.models import AuditEntryRow, AuditHeadRow


def append_audit(conn: Connection, at: datetime, event: str, data: dict[str, Any]) -> AuditEntry:
    """Append in the caller's transaction. The UPDATE of the head row takes its lock first, so
    concurrent appenders queue here and each links to the true previous entry."""
    head = AuditHeadRow.__table__
    seq, prev_hash = conn.execute(
        update(head).where(head.c.id == 1).values(seq=head.c.seq + 1).returning(head.c.seq, head.c.hash)
    ).one()
    digest = entry_hash(seq, at, event, data, prev_hash)
    conn.execute(AuditEntryRow.__table__.insert().values(seq=seq, at=at, event=event, data=data, prev_hash=prev_hash, hash=digest))
    conn.execute(update(head).where(head.c.id == 1).values(hash=digest))
    return AuditEntry(seq, at, event, data, prev_hash, digest)


def read_chain(conn: Connection) -> Iterator[AuditEntry]:
    for row in conn.execute(select(AuditEntryRow.__table__).order_by(AuditEntryRow.seq)):
        yield AuditEntry(row.seq, row.at, row.event, row.data, row.prev_hash, row.hash)
