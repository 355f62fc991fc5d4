"""The desk's clock in the demo: real time moved by an offset, so a trading session of hours plays in seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class DemoClock:
    """Real time plus an offset that the tour moves forward (`advance_to`) and never back, so every part of
    the desk sees time pass as it would, only faster. `catch_up` returns it to real time, where a desk left
    running after the tour carries on."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic()  # intervals (rate limits, durations) stay real

    def advance_to(self, moment: datetime) -> None:
        """Jump to `moment`; a moment already passed changes nothing."""
        offset = moment - datetime.now(UTC)
        self._offset = max(self._offset, offset)

    def catch_up(self) -> None:
        self.advance_to(datetime.now(UTC))
