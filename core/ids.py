"""Time-ordered ids (UUIDv7 layout): made before the insert, so one batch can reference its own rows,
and sortable, so `id` alone is a stable pagination cursor and "newest first" is `ORDER BY id DESC`."""

from __future__ import annotations

import os
import random
import uuid
from datetime import datetime

_LOW_62 = (1 << 62) - 1


class SignalIdFactory:
    """Strictly increasing ids within a process, even for many ids in one millisecond
    (RFC 9562's monotonic method: bump the random part instead of drawing a fresh one)."""

    def __init__(self) -> None:
        self._last = 0
        # Ids need uniqueness, not secrecy (they embed their creation time anyway): a seeded PRNG
        # saves a system call per signal on the ingest path.
        self._random = random.Random(os.urandom(16))

    def new_id(self, now: datetime) -> str:
        millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
        rand = self._random.getrandbits(80)
        value = (millis << 80) | (0x7 << 76) | (((rand >> 64) & 0xFFF) << 64) | (0b10 << 62) | (rand & _LOW_62)
        if value <= self._last and (self._last & _LOW_62) != _LOW_62:
            value = self._last + 1
        self._last = value
        return str(uuid.UUID(int=value))
