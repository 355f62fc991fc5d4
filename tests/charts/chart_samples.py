"""Small synthetic inputs for chart tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charts import Candle

START = datetime(2024, 3, 4, tzinfo=UTC)


def hourly(closes: list[float | None]) -> tuple[Candle, ...]:
    """Candles one hour apart, each spanning its close ± 0.5 (a None close makes the whole candle None)."""
    return tuple(
        Candle(START + timedelta(hours=i), c, None if c is None else c + 0.5, None if c is None else c - 0.5, c)
        for i, c in enumerate(closes)
    )
