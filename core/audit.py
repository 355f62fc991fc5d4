"""A hash-chained audit log: each entry's hash covers its content and the previous entry's hash, so an
edited, removed or reordered entry breaks every link after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    event: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(seq: int, at: datetime, event: str, data: dict[str, Any], prev_hash: str) -> str:
    canonical = json.dumps(
        {"seq": seq, "at": at.isoformat(), "event": event, "data": data, "prev": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(entries: Iterable[AuditEntry]) -> tuple[int, ChainBreak | None]:
    """(entries checked, the first break or None)."""
    previous, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return count, ChainBreak(entry.seq, f"expected entry #{expected_seq}: an entry is missing or reordered")
        if entry.prev_hash != previous:
            return count, ChainBreak(entry.seq, "does not link to the previous entry")
        if entry_hash(entry.seq, entry.at, entry.event, entry.data, entry.prev_hash) != entry.hash:
            return count, ChainBreak(entry.seq, "content does not match its hash: the entry was altered")
        previous, expected_seq = entry.hash, expected_seq + 1
    return count, None
