"""Time-ordered ids (UUIDv7 layout): made before the insert, so one batch can reference its own rows,
and sortable, so `id` alone is a stable pagination cursor."""

from __future__ import annotations

import os
import uuid
from datetime import datetime


def new_signal_id(now: datetime) -> str:
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 64) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
