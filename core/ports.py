"""What core needs from the outside world. storage/ and bot/ implement these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.signals import IngestResult, NewSignal, Signal, SignalStatus


@dataclass(frozen=True)
class SignalPage:
    signals: list[Signal]
    next_cursor: str | None


class SignalStore(Protocol):
    async def add(self, signal: NewSignal) -> IngestResult:
        """Store `signal` durably, or answer an idempotent replay with the original.

        Returns only after the row is committed. Raises DuplicateSignal, IdempotencyConflict or
        StorageUnavailable; in every failure case nothing is written."""
        ...

    async def get(self, signal_id: str) -> Signal | None: ...

    async def list(
        self,
        producer_id: str,
        *,
        status: SignalStatus | None,
        instrument: str | None,
        limit: int,
        cursor: str | None,
    ) -> SignalPage: ...

    async def ping(self) -> None:
        """Raise StorageUnavailable when the database cannot be reached."""
        ...
